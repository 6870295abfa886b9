package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"unicode"
)

// opsMain is OpenMetadataOperations as bootstrap/openmetadata-ops.sh runs it: options, then a
// subcommand and its options.
//
// OpenMetadata bootstrap/openmetadata-ops.sh @ 3275923d93d85bd9a0220e9cc5bcb2107c155c67: the
// script runs OpenMetadataOperations with `-c ${BOOTSTRAP_DIR}/../conf/openmetadata.yaml "$@"`,
// BOOTSTRAP_DIR being the script's directory. The official chart runs `openmetadata-ops.sh -d
// migrate` (-d: debug logging).
func opsMain(argv0 string, args []string) int {
	path := envOr("OM_STANDIN_CONFIG", defaultConfigPath)
	if filepath.Base(argv0) == "openmetadata-ops.sh" {
		path = filepath.Join(filepath.Dir(argv0), "..", "conf", "openmetadata.yaml")
	}
	command := ""
	force := false
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case (a == "-c" || a == "--config") && i+1 < len(args):
			path = args[i+1]
			i++
		case a == "-d" || a == "--debug":
			debugEnabled = true
		case a == "--force" && command != "":
			force = true
		case command == "" && (a == "remove-security-config" || a == "migrate"):
			command = a
		case command == "migrate":
			// migrate's own options (--force, ...) change nothing here.
		default:
			fmt.Fprintf(os.Stderr, "om-standin: unsupported argument %q (supported: [-c CONFIG] [-d] remove-security-config [--force] | migrate)\n", a)
			return 2
		}
	}
	switch command {
	case "remove-security-config":
		return removeSecurityConfig(path, force, os.Stdin)
	case "migrate":
		return migrateCommand(path)
	}
	fmt.Fprintln(os.Stderr, "om-standin: a subcommand is needed: remove-security-config [--force] | migrate")
	return 2
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
	cfg, err := loadConfig(path)
	if err != nil {
		logError("Failed to migrate due to %v", err)
		return 1
	}
	st, err := openStore(cfg.database)
	if err != nil {
		logError("Failed to migrate due to %v", err)
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
