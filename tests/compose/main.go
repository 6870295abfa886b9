// compose-check loads a Compose project with compose-go, the library Docker Compose itself uses
// to read compose files and env files, exactly as `docker compose` does (the process environment,
// then --env-file files or the project's .env, then interpolation, then each service's env_file),
// and prints what one service would get as JSON:
//
//	{"project_environment": {...}, "environment": {...}, "volumes": [{"source", "target", "read_only"}]}
//
// Usage: compose-check -dir DIR -service NAME [-env-file FILE]... -f FILE [-f FILE]...
// The offline tests (tests/offline/compose.rs) run it on what `oidc-sso-operator render` writes.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

type volume struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"read_only"`
}

type result struct {
	ProjectEnvironment map[string]string  `json:"project_environment"`
	Environment        map[string]*string `json:"environment"`
	Volumes            []volume           `json:"volumes"`
}

func main() {
	var files, envFiles list
	dir := flag.String("dir", ".", "project directory")
	service := flag.String("service", "", "the service to print")
	flag.Var(&files, "f", "compose file (repeatable)")
	flag.Var(&envFiles, "env-file", "project env file, as `docker compose --env-file` (repeatable)")
	flag.Parse()
	if err := run(*dir, *service, files, envFiles); err != nil {
		fmt.Fprintln(os.Stderr, "compose-check:", err)
		os.Exit(1)
	}
}

func run(dir, service string, files, envFiles []string) error {
	opts, err := cli.NewProjectOptions(files,
		cli.WithName("compose-check"),
		cli.WithWorkingDirectory(dir),
		cli.WithOsEnv,
		cli.WithEnvFiles(envFiles...),
		cli.WithDotEnv,
	)
	if err != nil {
		return err
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		return err
	}
	svc, ok := project.Services[service]
	if !ok {
		return fmt.Errorf("no service %q", service)
	}
	out := result{
		ProjectEnvironment: project.Environment,
		Environment:        svc.Environment,
		Volumes:            []volume{},
	}
	for _, v := range svc.Volumes {
		out.Volumes = append(out.Volumes, volume{Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly})
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
