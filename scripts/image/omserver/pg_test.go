package main

import (
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyRotationWithBotTokenRenewalOnPostgreSQL runs the commands against a real PostgreSQL. It
// needs OM_STANDIN_PG_TEST=1 and the DB_* variables of an empty database it may overwrite, as
// scripts/node/postgres.sh prints them:
//
//	PG_DIR=/tmp/om-standin-pg PG_PORT=55499 scripts/node/postgres.sh start
//	set -a; eval "$(PG_DIR=/tmp/om-standin-pg PG_PORT=55499 scripts/node/postgres.sh env)"; set +a
//	(cd scripts/image/omserver && OM_STANDIN_PG_TEST=1 go test -run PostgreSQL ./...)
//	PG_DIR=/tmp/om-standin-pg scripts/node/postgres.sh stop
//
// Without them it is skipped (the other tests cover the same logic on an in-memory store).
func TestKeyRotationWithBotTokenRenewalOnPostgreSQL(t *testing.T) {
	if os.Getenv("OM_STANDIN_PG_TEST") != "1" || os.Getenv("DB_HOST") == "" {
		t.Skip("set OM_STANDIN_PG_TEST=1 and the DB_* variables of a scratch database (see the comment)")
	}
	t.Setenv("OM_STANDIN_VERSION", "1.13.1")
	withErrOut(t)
	dir := t.TempDir()
	writeKeys := func(name string) string {
		k := newKey(t)
		sub := filepath.Join(dir, name)
		_ = os.MkdirAll(sub, 0o700)
		priv, _ := x509.MarshalPKCS8PrivateKey(k)
		pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
		_ = os.WriteFile(filepath.Join(sub, "private_key.der"), priv, 0o600)
		_ = os.WriteFile(filepath.Join(sub, "public_key.der"), pub, 0o600)
		config := filepath.Join(sub, "openmetadata.yaml")
		_ = os.WriteFile(config, []byte(`authorizerConfiguration:
  principalDomain: "open-metadata.org"
authenticationConfiguration:
  provider: basic
  publicKeyUrls: []
  jwtPrincipalClaims: [email, preferred_username, sub]
jwtTokenConfiguration:
  rsapublicKeyFilePath: "`+filepath.Join(sub, "public_key.der")+`"
  rsaprivateKeyFilePath: "`+filepath.Join(sub, "private_key.der")+`"
  jwtissuer: "open-metadata.org"
  keyId: "`+name+`"
`), 0o600)
		return config
	}
	oldConfig, newConfig := writeKeys("old-kid"), writeKeys("new-kid")
	cfg, err := loadConfig(oldConfig)
	if err != nil {
		t.Fatal(err)
	}

	st, err := openStore(cfg.database)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	for _, table := range entityTableNames {
		if _, err := st.exec(`DROP TABLE IF EXISTS ` + table); err != nil {
			t.Fatal(err)
		}
	}
	if code := migrateCommand(oldConfig); code != 0 {
		t.Fatalf("migrate: %d", code)
	}
	if ok, err := st.migrated(false); !ok || err != nil {
		t.Fatalf("migrated: %t %v", ok, err)
	}

	// First start, then a restart with the new key pair: the bot keeps the old key's token.
	db := pgAccess(cfg.database)
	if err := bootstrapEntities(db, cfg, loadTokenGenerator(cfg.jwt)); err != nil {
		t.Fatal(err)
	}
	first := storedToken(t, st, "ingestion-bot")
	newCfg, _ := loadConfig(newConfig)
	if err := bootstrapEntities(db, newCfg, loadTokenGenerator(newCfg.jwt)); err != nil {
		t.Fatal(err)
	}
	if storedToken(t, st, "ingestion-bot") != first || tokenKid(first) != "old-kid" {
		t.Fatalf("the restart changed the token (kid %q)", tokenKid(storedToken(t, st, "ingestion-bot")))
	}

	// deploy-pipelines with the stale token fails; regenerate-bot-tokens; then it pins the new one.
	if code := deployPipelinesCommand(newConfig, 20, 30); code != 1 {
		t.Fatalf("deploy-pipelines with the stale token: %d", code)
	}
	if pinned, _ := st.deployments(); len(pinned) != 0 {
		t.Fatalf("pinned %v", pinned)
	}
	if code := regenerateBotTokensCommand(newConfig, unlimitedExpiry); code != 0 {
		t.Fatalf("regenerate-bot-tokens: %d", code)
	}
	fresh := storedToken(t, st, "ingestion-bot")
	if fresh == first || tokenKid(fresh) != "new-kid" {
		t.Fatalf("regenerated kid %q", tokenKid(fresh))
	}
	if code := deployPipelinesCommand(newConfig, 20, 30); code != 0 {
		t.Fatalf("deploy-pipelines after regeneration: %d", code)
	}
	pinned, _ := st.deployments()
	pipelines, _ := st.listPipelines()
	if len(pinned) != 2 || len(pipelines) != 2 {
		t.Fatalf("pinned %d of %d", len(pinned), len(pipelines))
	}
	for _, p := range pipelines {
		if !p.Deployed || pinned[p.ID].BotToken != fresh {
			t.Fatalf("%s: deployed %t", p.Name, p.Deployed)
		}
	}

	// What the tests read over HTTP.
	server := httptest.NewServer(apiHandler("1.13.1", loadTokenGenerator(newCfg.jwt), []byte(`{}`), newTokenChecker(loadTokenGenerator(newCfg.jwt), nil), db))
	defer server.Close()
	bot, _ := st.botByName("ingestion-bot")
	resp, err := http.Get(server.URL + "/api/v1/users/token/" + bot.BotUser.ID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), fresh) {
		t.Fatalf("%s", body)
	}
	resp, err = http.Get(server.URL + "/api/v1/services/ingestionPipelines")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), fresh) || strings.Count(string(body), `"botTokenKid":"new-kid"`) != 2 {
		t.Fatalf("%s", body)
	}
}
