package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// The image's layout, as OpenMetadata's: the server runs in /opt/openmetadata with
// conf/openmetadata.yaml; bootstrap/openmetadata-ops.sh reads ${BOOTSTRAP_DIR}/../conf/openmetadata.yaml.
const defaultConfigPath = "/opt/openmetadata/conf/openmetadata.yaml"

func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

// standinRelease is the release the stand-in plays: OM_STANDIN_VERSION, default 1.13.1.
func standinRelease() (string, release, error) {
	text := envOr("OM_STANDIN_VERSION", "1.13.1")
	r, ok := parseRelease(text)
	if !ok {
		return "", release{}, fmt.Errorf("OM_STANDIN_VERSION=%q is not a release (major.minor.patch)", text)
	}
	return text, r, nil
}

func serverMain(args []string) int {
	path := envOr("OM_STANDIN_CONFIG", defaultConfigPath)
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == "-c" && i+1 < len(args):
			path = args[i+1]
			i++
		case !strings.HasPrefix(args[i], "-"):
			path = args[i]
		default:
			fmt.Fprintf(os.Stderr, "unknown argument %q\n", args[i])
			return 2
		}
	}
	text, rel, err := standinRelease()
	if err != nil {
		logError("%v", err)
		return 2
	}
	withFix := os.Getenv("OM_STANDIN_FIX_31516") == "true"
	logInfo("%s standing in for OpenMetadata %s (%s; PR #31516 fix: %t); this is not OpenMetadata",
		standinName(), text, rel.family(), withFix)

	cfg, err := loadConfig(path)
	if err != nil {
		logError("%v", err)
		return 1
	}
	// OpenMetadataApplication.run() calls JWTTokenGenerator.getInstance().init(...) on every start.
	generator := loadTokenGenerator(cfg.jwt)
	current, err := securityState(cfg, text, rel)
	if err != nil {
		logError("%v", err)
		return 1
	}
	// PR #31516 changed variant D (1.10 and later); variant B (up to 1.9) predates it.
	view := authView(current, rel.family() == configSourceFamily, withFix && rel.family() != readsFile)
	tokens := newTokenChecker(generator, stringsOf(current["publicKeyUrls"]))
	var db *dbAccess
	if rel.family() != readsFile {
		// The collections initialise after the settings (BotResource.initialize, bots.go); up to 1.9
		// the stand-in keeps no database, so no bots and no bot-token comparison (README.md).
		db = pgAccess(cfg.database)
		if err := bootstrapEntities(db, cfg, generator); err != nil {
			logError("%v", err)
			return 1
		}
		tokens.principalClaims = stringsOf(current["jwtPrincipalClaims"])
		tokens.bots = newBotTokenCache(func(name string) (string, error) {
			var token string
			err := db.with(func(es entityStore) (err error) { token, err = storedBotToken(es, name); return })
			return token, err
		})
	}
	return serve(text, generator, encodeAuth(view), tokens, db)
}

// stringsOf is a YAML/JSON list of strings (anything else in it is skipped).
func stringsOf(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, item := range list {
		if s, ok := item.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// securityState is where the running server's authentication configuration comes from.
func securityState(cfg *appConfig, text string, rel release) (obj, error) {
	fam := rel.family()
	if fam == readsFile {
		// ConfigResource variant B reads openMetadataApplicationConfig.getAuthenticationConfiguration().
		return cfg.authentication, nil
	}
	st, err := openStore(cfg.database)
	if err != nil {
		return nil, err
	}
	defer st.close()
	ok, err := st.migrated(fam == configSourceFamily)
	if err != nil {
		return nil, err
	}
	if !ok {
		// OpenMetadata validates at start that its migrations ran and refuses to start otherwise;
		// the stand-in's `migrate` is the step that creates what it needs.
		return nil, errors.New("the database is not migrated: run `openmetadata-ops.sh migrate` first")
	}
	if fam == copiesToDatabase {
		if err := seedMissing(st, cfg); err != nil {
			return nil, err
		}
	} else if err := reconcileAll(st, cfg, text); err != nil {
		return nil, err
	}
	return loadCurrent(st, cfg), nil
}

// seedMissing is SettingsCache.createDefaultConfiguration() for the two security rows: each is
// inserted from the parsed configuration file only if no row exists.
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/resources/settings/SettingsCache.java
// @ 0151c9d4f267225fd5d502cdc892184a0002d984: `if (storedAuthConfig == null)` (getConfigWithKey)
// and `authConfig != null` → createNewSetting(AUTHENTICATION_CONFIGURATION, the whole POJO); the
// same for AUTHORIZER_CONFIGURATION. Runs once per start, from SettingsCache.initialize(config).
func seedMissing(st *store, cfg *appConfig) error {
	rows := []struct {
		configType string
		value      []byte
	}{{authenticationType, nil}, {authorizerType, nil}}
	if cfg.authentication != nil {
		rows[0].value = encodeAuth(cfg.authentication)
	}
	if cfg.authorizer != nil {
		rows[1].value = encodeJSON(cfg.authorizer)
	}
	for _, row := range rows {
		stored, err := st.getConfig(row.configType)
		if err != nil {
			return err
		}
		if stored == nil && row.value != nil {
			if err := st.insertSettings(row.configType, row.value); err != nil {
				return err
			}
			logInfo("seeded %s into openmetadata_settings from the configuration file", row.configType)
		}
	}
	return nil
}

// loadCurrent is SecurityConfigurationManager.initialize(): the database row, or the YAML
// configuration only when reading the row throws.
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/security/auth/SecurityConfigurationManager.java
// @ 011c37684ab101b1b3df718f1274341b0c9ca767: currentState from SettingsCache.getSetting(
// AUTHENTICATION_CONFIGURATION, AuthenticationConfiguration.class); on any exception it logs
// "Failed to load configuration from database, falling back to YAML: {}" and uses
// config.getAuthenticationConfiguration(). The state then stays in memory until a restart (no
// API writes in the stand-in).
func loadCurrent(st *store, cfg *appConfig) obj {
	current, err := func() (obj, error) {
		data, err := st.getConfig(authenticationType)
		if err != nil {
			return nil, err
		}
		if data == nil {
			return nil, fmt.Errorf("%s not found", authenticationType)
		}
		parsed, err := decodeJSON(data)
		if err != nil {
			return nil, err
		}
		return bindAuthentication(parsed)
	}()
	if err != nil {
		logWarn("Failed to load configuration from database, falling back to YAML: %v", err)
		logInfo("Using security configuration from YAML - provider: %v", providerOf(cfg.authentication))
		return cfg.authentication
	}
	logInfo("Loaded security configuration from database - provider: %v", providerOf(current))
	return current
}

func providerOf(o obj) any {
	if o == nil {
		return "null"
	}
	return o["provider"]
}

// dualSetting is one of the security group's settings with its deployment value and template.
type dualSetting struct {
	configType  string
	deployment  any
	encoded     []byte
	template    []string
	hasIdentity bool
}

// reconcileAll is DeploymentConfigReconciler.reconcileAll() for the security group.
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/config/source/DeploymentConfigReconciler.java
// @ 24ce58b5121acd83f543813c52880ea40fb380d2 (and the later stored copy that adds
// requireEnvSettingsApplicable()): in ENV mode every setting is first checked without writing, so
// a refused identity provider changes nothing; then each setting is reconciled with up to 3
// compare-and-set attempts: no row → insert the deployment value with its snapshot; a row whose
// snapshot a newer server wrote → left alone with a WARN; otherwise merged and stored with the
// new snapshot (values = the deployment value, meta.mode = this start's mode, previousStored =
// the stored value when this start switches to ENV). A failure stops the start in ENV mode and is
// logged, keeping the stored value, in AUTO and DB modes.
func reconcileAll(st *store, cfg *appConfig, appVersion string) error {
	mode := cfg.configSource.security
	settings := []dualSetting{
		{authenticationType, anyOrNil(cfg.authentication), encodeAuth(cfg.authentication), templateLeaves(cfg.rawAuthSection), true},
		{authorizerType, anyOrNil(cfg.authorizer), encodeJSON(cfg.authorizer), templateLeaves(cfg.rawAuthzSection), false},
	}
	if mode == "ENV" {
		for _, s := range settings {
			if err := checkEnv(st, cfg, s, appVersion); err != nil {
				return describeErr(s.configType, err)
			}
		}
	} else {
		logWarn("SECURITY_CONFIG_SOURCE=%s: the stand-in does not emulate this mode's merge; the stored value is kept (README.md)", mode)
	}
	for _, s := range settings {
		if s.deployment == nil {
			continue
		}
		if err := reconcileSetting(st, cfg, s, appVersion); err != nil {
			if mode == "ENV" {
				return describeErr(s.configType, err)
			}
			logError("%s could not be reconciled with the deployment configuration and keeps its stored value: %v", s.configType, err)
		}
	}
	return nil
}

func anyOrNil(o obj) any {
	if o == nil {
		return nil
	}
	return o
}

func checkEnv(st *store, cfg *appConfig, s dualSetting, appVersion string) error {
	row, err := st.getRow(s.configType)
	if err != nil || row == nil {
		return err
	}
	prev := parseSnapshot(row.snapshot)
	if prev != nil && olderRelease(appVersion, prev.Meta.AppVersion) {
		return nil
	}
	stored, err := decodeJSON(row.json)
	if err != nil {
		return err
	}
	_, _, err = mergeEnv(s.hasIdentity, s.deployment, stored, lastApplied(prev), s.template,
		prev == nil || prev.Meta.Mode != "ENV", cfg.configSource.confirmProviderChange)
	return err
}

func lastApplied(prev *snapshot) any {
	if prev == nil {
		return nil
	}
	return prev.Values
}

func reconcileSetting(st *store, cfg *appConfig, s dualSetting, appVersion string) error {
	mode := cfg.configSource.security
	for attempt := 0; attempt < 3; attempt++ {
		row, err := st.getRow(s.configType)
		if err != nil {
			return err
		}
		if row == nil {
			seed := snapshot{Values: s.deployment, Meta: snapshotMeta{Mode: mode, AppVersion: appVersion, Warned: []string{}}}
			inserted, err := st.insertIfAbsent(s.configType, s.encoded, seed.encode())
			if err != nil {
				return err
			}
			if inserted {
				logInfo("%s: stored the deployment configuration", s.configType)
				return nil
			}
			continue
		}
		prev := parseSnapshot(row.snapshot)
		if prev != nil && olderRelease(appVersion, prev.Meta.AppVersion) {
			logWarn("%s was last reconciled by a newer server version; not applying this server's deployment configuration to it", s.configType)
			return nil
		}
		stored, err := decodeJSON(row.json)
		if err != nil {
			return err
		}
		switching := mode == "ENV" && (prev == nil || prev.Meta.Mode != "ENV")
		merged, changed := stored, false
		if mode == "ENV" {
			if merged, changed, err = mergeEnv(s.hasIdentity, s.deployment, stored, lastApplied(prev), s.template,
				switching, cfg.configSource.confirmProviderChange); err != nil {
				return err
			}
		}
		meta := snapshotMeta{Mode: mode, AppVersion: appVersion, Warned: []string{}}
		if prev != nil {
			meta.AppliedJSONHash = prev.Meta.AppliedJSONHash
			meta.PreviousStored = prev.Meta.PreviousStored
		}
		if switching {
			meta.PreviousStored = stored
		}
		next := snapshot{Values: s.deployment, Meta: meta}.encode()
		var written bool
		if changed {
			written, err = st.updateIfCurrent(s.configType, row.json, encodeJSON(merged), next)
			if written {
				logInfo("%s: applied the deployment configuration (SECURITY_CONFIG_SOURCE=ENV)", s.configType)
			}
		} else {
			written, err = st.updateSnapshotIfCurrent(s.configType, row.json, next)
		}
		if err != nil {
			return err
		}
		if written {
			return nil
		}
	}
	logWarn("%s kept changing while it was reconciled; it will be reconciled on the next start", s.configType)
	return nil
}

// serve answers until SIGTERM or SIGINT (also as PID 1).
func serve(releaseText string, generator tokenGenerator, auth []byte, tokens *tokenChecker, db *dbAccess) int {
	addr := envOr("OM_STANDIN_ADDR", "0.0.0.0:8585")
	admin := os.Getenv("OM_STANDIN_ADMIN_ADDR")
	if _, set := os.LookupEnv("OM_STANDIN_ADMIN_ADDR"); !set {
		admin = "0.0.0.0:8586"
	}
	servers := []*http.Server{{Addr: addr, Handler: apiHandler(releaseText, generator, auth, tokens, db), ReadHeaderTimeout: 10 * time.Second}}
	if admin != "" && admin != "off" {
		servers = append(servers, &http.Server{Addr: admin, Handler: adminHandler(), ReadHeaderTimeout: 10 * time.Second})
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errc := make(chan error, len(servers))
	for _, srv := range servers {
		go func(srv *http.Server) { errc <- srv.ListenAndServe() }(srv)
		logInfo("listening on %s", srv.Addr)
	}
	select {
	case err := <-errc:
		logError("serve: %v", err)
		return 1
	case <-ctx.Done():
		logInfo("signal received, shutting down")
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, srv := range servers {
			_ = srv.Shutdown(shutdown)
		}
		return 0
	}
}
