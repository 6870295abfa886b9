// oidc-sso-om-standin: a stand-in for the OpenMetadata server, for the operator's tests. It is
// NOT OpenMetadata: it has no UI, no search, no authentication, no entities. It reproduces only
// what the operator depends on, each behaviour transcribed from OpenMetadata's source (the
// citation is next to the code, `OpenMetadata <path> @ <commit>: <what>`; README.md has the
// table):
//
//   - openmetadata.yaml is read as the server reads it: environment variables substituted
//     textually (${VAR:-default}), then YAML parsed (config.go, substitute.go);
//   - GET /api/v1/system/version, /api/v1/system/config/jwks, /api/v1/system/config/auth and
//     /api/v1/system/health answer as the server does (server.go, jwks.go, authconfig.go);
//   - the release family chosen by OM_STANDIN_VERSION decides where the authentication settings
//     come from: up to 1.9 the file, 1.10 to 2.0.x the database copy seeded on the first start,
//     2.1 and later the database copy reconciled with SECURITY_CONFIG_SOURCE (startup.go,
//     reconcile.go);
//   - `remove-security-config [--force]` and `migrate` as `openmetadata-ops.sh` runs them (ops.go);
//   - from 1.10 on, the ingestion bot with its JWT token in the database (bots.go, jwtgen.go), the
//     filter's bot-token comparison (botcache.go, tokencheck.go), `regenerate-bot-tokens` (1.13.0
//     and later, regenerate.go) and `deploy-pipelines` (deploy.go) on two stand-in pipelines, and
//     the read endpoints the tests use (api.go).
//
// The binary dispatches on the name it is run as: as `openmetadata-ops.sh` (the image links it
// at /opt/openmetadata/bootstrap/openmetadata-ops.sh) it is the operations CLI; otherwise its
// first argument may name a subcommand (`remove-security-config`, `migrate`,
// `regenerate-bot-tokens`, `deploy-pipelines`), and without one it is the server.
package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// Set by the build (-ldflags -X): the stand-in's own version and build time.
var (
	version   = "dev"
	buildTime = "0" // milliseconds since the epoch
)

// standinName says what this is, in the version answer's revision and every response's Server
// header, so nobody mistakes it for OpenMetadata.
func standinName() string { return "oidc-sso-om-standin/" + version }

func main() {
	os.Exit(run(os.Args))
}

func run(args []string) int {
	name := filepath.Base(args[0])
	rest := args[1:]
	if name == "openmetadata-ops.sh" {
		return opsMain(args[0], rest)
	}
	if len(rest) > 0 {
		switch rest[0] {
		case "remove-security-config", "migrate", "regenerate-bot-tokens", "deploy-pipelines":
			return opsMain(args[0], rest)
		case "-version", "--version":
			fmt.Println(standinName())
			return 0
		case "-h", "--help":
			fmt.Println("usage: om-standin [server | remove-security-config [--force] | migrate | regenerate-bot-tokens [--expiry E] | deploy-pipelines] (see README.md)")
			return 0
		case "server":
			rest = rest[1:]
		}
	}
	return serverMain(rest)
}
