package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
)

// errOut is where the CLI's own usage errors go (standard error; the tests read it).
var errOut io.Writer = os.Stderr

// opsCommands are the subcommands the stand-in emulates.
var opsCommands = map[string]bool{
	"remove-security-config": true, "migrate": true, "regenerate-bot-tokens": true, "deploy-pipelines": true,
}

// opsMain is OpenMetadataOperations as bootstrap/openmetadata-ops.sh runs it: options, then a
// subcommand and its options.
//
// OpenMetadata bootstrap/openmetadata-ops.sh @ 3275923d93d85bd9a0220e9cc5bcb2107c155c67: the
// script runs OpenMetadataOperations with `-c ${BOOTSTRAP_DIR}/../conf/openmetadata.yaml "$@"`,
// BOOTSTRAP_DIR being the script's directory. The official chart runs `openmetadata-ops.sh -d
// migrate` (-d: debug logging).
//
// Subcommand options as OpenMetadataOperations declares them (.../util/OpenMetadataOperations.java
// @ 4be7a18c160df321690d48bf7c6ecf719bbd29f2, parkermeng2024/OpenMetadata): regenerate-bot-tokens
// --expiry (JWTTokenExpiry, default Unlimited), deploy-pipelines --chunk-size (default 20) and
// --seconds-per-pipeline (default 30); picocli takes `--opt value` and `--opt=value`; a bad value is
// "Invalid value for option '--expiry': expected one of [...] (case-sensitive) but was 'x'" or
// "Invalid value for option '--chunk-size': 'x' is not an int", a missing one "Missing required
// parameter for option '--expiry' (<expiry>)", status 2 (picocli v4.7.6 tryConvert and
// createMissingParameterMessage; these lines and the unmatched-argument ones of picocli.go were
// checked by running picocli 4.7.6 with the same command and option names; the label <expiry>
// assumes OpenMetadata compiles parameter names in, else picocli says <arg0>; the usage help
// picocli prints after the line is not emulated). regenerate-bot-tokens in a release before 1.13.0
// is no subcommand at all: picocli's unmatched-argument failure (picocli.go).
func opsMain(argv0 string, args []string) int {
	path := envOr("OM_STANDIN_CONFIG", defaultConfigPath)
	if filepath.Base(argv0) == "openmetadata-ops.sh" {
		path = filepath.Join(filepath.Dir(argv0), "..", "conf", "openmetadata.yaml")
	}
	command := ""
	force := false
	expiry := unlimitedExpiry
	chunkSize, secondsPerPipeline := 20, 30
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, inline, hasInline := strings.Cut(a, "=")
		value := func() (string, bool) {
			if hasInline {
				return inline, true
			}
			if i+1 < len(args) {
				i++
				return args[i], true
			}
			return "", false
		}
		switch {
		case (a == "-c" || a == "--config") && i+1 < len(args):
			path = args[i+1]
			i++
		case a == "-d" || a == "--debug":
			debugEnabled = true
		case a == "--force" && (command == "remove-security-config" || command == "migrate"):
			force = true
		case command == "" && opsCommands[a]:
			if a == "regenerate-bot-tokens" {
				_, rel, err := standinRelease()
				if err != nil {
					logError("%v", err)
					return 2
				}
				if !hasRegenerateBotTokens(rel) {
					return picocliUnmatched(errOut, 2+i, unmatchedFrom(args[i:]), subcommandsBeforeRegenerate)
				}
			}
			command = a
		case command == "regenerate-bot-tokens" && name == "--expiry":
			v, ok := value()
			if !ok {
				fmt.Fprintln(errOut, "Missing required parameter for option '--expiry' (<expiry>)")
				return 2
			}
			e, err := parseExpiry(v)
			if err != nil {
				fmt.Fprintf(errOut, "Invalid value for option '--expiry': %v\n", err)
				return 2
			}
			expiry = e
		case command == "deploy-pipelines" && (name == "--chunk-size" || name == "--seconds-per-pipeline"):
			label := map[string]string{"--chunk-size": "<chunkSize>", "--seconds-per-pipeline": "<secondsPerPipeline>"}[name]
			v, ok := value()
			if !ok {
				fmt.Fprintf(errOut, "Missing required parameter for option '%s' (%s)\n", name, label)
				return 2
			}
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil {
				fmt.Fprintf(errOut, "Invalid value for option '%s': '%s' is not an int\n", name, v)
				return 2
			}
			if name == "--chunk-size" {
				chunkSize = int(n)
			} else {
				secondsPerPipeline = int(n)
			}
		case command == "migrate":
			// migrate's own options (--force, ...) change nothing here.
		default:
			fmt.Fprintf(errOut, "om-standin: unsupported argument %q (supported: [-c CONFIG] [-d] remove-security-config [--force] | migrate | regenerate-bot-tokens [--expiry E] | deploy-pipelines [--chunk-size N] [--seconds-per-pipeline N])\n", a)
			return 2
		}
	}
	switch command {
	case "remove-security-config":
		return removeSecurityConfig(path, force, os.Stdin)
	case "migrate":
		return migrateCommand(path)
	case "regenerate-bot-tokens":
		return regenerateBotTokensCommand(path, expiry)
	case "deploy-pipelines":
		return deployPipelinesCommand(path, chunkSize, secondsPerPipeline)
	}
	fmt.Fprintln(errOut, "om-standin: a subcommand is needed: remove-security-config [--force] | migrate | regenerate-bot-tokens | deploy-pipelines")
	return 2
}

// unmatchedFrom is what picocli leaves unmatched from an unknown subcommand on: the word and every
// later argument but the top command's own options (-d/--debug, -c/--config with its value; the
// standard -h/-V would print help or the version instead and are not emulated).
func unmatchedFrom(args []string) []string {
	out := []string{args[0]}
	for i := 1; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-d" || a == "--debug":
		case (a == "-c" || a == "--config") && i+1 < len(args):
			i++
		case strings.HasPrefix(a, "--config="):
		default:
			out = append(out, a)
		}
	}
	return out
}

// removeSecurityConfig is OpenMetadataOperations.removeSecurityConfig(boolean force).
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/util/OpenMetadataOperations.java
// @ 95c0883bae25a2056d307c239c1f0144682585e0:
//   - without --force: two WARN lines, then it reads one token from standard input
//     (Scanner.next()); anything but "DELETE" logs "Operation cancelled." and returns 0; no token
//     at all (end of input) throws, which the outer catch turns into exit status 1;
//   - parseConfig() (the configuration with environment substitution; JDBI is created without
//     connecting); a failure there is caught by the outer catch: "Failed to remove security
//     configuration due to", status 1;
//   - then, each in its own try: getConfigWithKey(authenticationConfiguration) and, when present,
//     deleteSettings, logging "Removed authenticationConfiguration from database." or "No
//     authenticationConfiguration found in database."; any exception only LOG.debug("Failed to
//     remove ...") — so an unreachable database still ends with status 0; the same for
//     authorizerConfiguration;
//   - "Security configuration removal completed." and the restart note; status 0.
func removeSecurityConfig(path string, force bool, stdin io.Reader) int {
	if !force {
		logWarn("WARNING: This will remove all authentication and authorization configuration from the database!")
		logWarn("This includes authenticationConfiguration and authorizerConfiguration settings.")
		logInfo("Use --force to skip this confirmation.")
		logInfo("Enter 'DELETE' to confirm removal of security configuration: ")
		token, err := nextToken(stdin)
		if err != nil {
			logError("Failed to remove security configuration due to java.util.NoSuchElementException: %v", err)
			return 1
		}
		if token != "DELETE" {
			logInfo("Operation cancelled.")
			return 0
		}
	}
	logInfo("Removing security configuration from database...")
	cfg, err := loadConfig(path)
	if err != nil {
		logError("Failed to remove security configuration due to %v", err)
		return 1
	}
	var st *store
	defer func() {
		if st != nil {
			st.close()
		}
	}()
	for _, configType := range []string{authenticationType, authorizerType} {
		err := func() error {
			if st == nil {
				var err error
				if st, err = openStore(cfg.database); err != nil {
					return err
				}
			}
			stored, err := st.getConfig(configType)
			if err != nil {
				return err
			}
			if stored == nil {
				logInfo("No %s found in database.", configType)
				return nil
			}
			if err := st.deleteSettings(configType); err != nil {
				return err
			}
			logInfo("Removed %s from database.", configType)
			return nil
		}()
		if err != nil {
			logDebug("Failed to remove %s: %v", configType, err)
		}
	}
	logInfo("Security configuration removal completed.")
	logInfo("Note: You will need to restart the OpenMetadata service for changes to take effect.")
	return 0
}

// nextToken is java.util.Scanner.next() on standard input: skip whitespace, read up to the next.
func nextToken(r io.Reader) (string, error) {
	br := bufio.NewReader(r)
	var token []rune
	for {
		c, _, err := br.ReadRune()
		if err != nil {
			if len(token) > 0 {
				return string(token), nil
			}
			return "", err
		}
		if unicode.IsSpace(c) {
			if len(token) > 0 {
				return string(token), nil
			}
			continue
		}
		token = append(token, c)
	}
}

// migrateCommand stands for `openmetadata-ops.sh migrate`: it creates what the stand-in reads
// and writes (store.go's migrate) and fails, as the real command does, when the database cannot
// be reached.
func migrateCommand(path string) int {
	text, rel, err := standinRelease()
	if err != nil {
		logError("%v", err)
		return 2
	}
	_, st, ok := configuredStore(path, "migrate")
	if !ok {
		return 1
	}
	defer st.close()
	if err := st.migrate(rel.family() == configSourceFamily); err != nil {
		logError("Failed to migrate due to %v", err)
		return 1
	}
	logInfo("migrated openmetadata_settings for OpenMetadata %s (%s)", text, rel.family())
	return 0
}

// configuredStore reads the configuration at path and opens its database; when either fails it
// logs "Failed to <what> due to <error>", as OpenMetadataOperations' commands do, and says so.
func configuredStore(path, what string) (*appConfig, *store, bool) {
	cfg, err := loadConfig(path)
	if err != nil {
		logError("Failed to %s due to %v", what, err)
		return nil, nil, false
	}
	st, err := openStore(cfg.database)
	if err != nil {
		logError("Failed to %s due to %v", what, err)
		return nil, nil, false
	}
	return cfg, st, true
}
