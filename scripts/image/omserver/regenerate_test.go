package main

import (
	"bytes"
	"crypto/rsa"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// rotated is a store whose ingestion bot got its token from the old key, as after a restart with
// a new key pair, plus a bot without a user, a bot whose user signs in with SSO and a deleted bot.
func rotated(t *testing.T, oldKeys tokenGenerator, now time.Time) *memStore {
	t.Helper()
	es := newMemStore()
	if err := ensureIngestionBot(es, oldKeys, "open-metadata.org", now); err != nil {
		t.Fatal(err)
	}
	sso := &userEntity{ID: newUUID(), Name: "sso-bot", FullyQualifiedName: "sso-bot", Email: "sso-bot@x", IsBot: true,
		AuthenticationMechanism: &authenticationMechanism{AuthType: "SSO", Config: []byte(`{"ssoServiceType":"google"}`)}}
	_, _ = es.insertUser(sso)
	for _, b := range []botEntity{
		{ID: newUUID(), Name: "sso-bot", FullyQualifiedName: "sso-bot"},
		{ID: newUUID(), Name: "orphan-bot", FullyQualifiedName: "orphan-bot"},
		{ID: newUUID(), Name: "deleted-bot", FullyQualifiedName: "deleted-bot", Deleted: true},
	} {
		_, _ = es.insertBot(&b)
		if b.Name == "sso-bot" {
			_ = es.addBotUser(b.ID, sso.ID)
		}
	}
	return es
}

func TestRegenerateReplacesTheStoredTokenWithOneTheNewKeyVerifies(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	oldKeys, newKeys := keyPair(t, "old"), keyPair(t, "new")
	es := rotated(t, oldKeys, now)
	old := storedToken(t, es, "ingestion-bot")

	// The server restarted with the new key: the stored token is signed by a key it does not know.
	server := serverChecker(newKeys, es, clock)
	if _, err := server.check(old); err != errKeyNotFound {
		t.Fatalf("old token after the restart: %v", err)
	}

	rows, err := regenerateBotTokens(es, newKeys, unlimitedExpiry, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"ingestion-bot", "SUCCESS", "Token regenerated"},
		{"orphan-bot", "SKIPPED", "No bot user associated"},
		{"sso-bot", "SKIPPED", "Not using JWT authentication"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("rows %v", rows)
	}
	fresh := storedToken(t, es, "ingestion-bot")
	if fresh == old || tokenKid(fresh) != "new" {
		t.Fatalf("stored token's kid %q (replaced: %t)", tokenKid(fresh), fresh != old)
	}
	if sub, err := server.check(fresh); err != nil || sub != "ingestion-bot" {
		t.Fatalf("the regenerated token: %q %v", sub, err)
	}
	user, _ := es.userByName("ingestion-bot")
	if m, _ := user.jwt(); *m.JWTTokenExpiry != "Unlimited" || user.UpdatedBy != "admin" {
		t.Fatalf("user %s", mustJSON(user))
	}

	// With the old key still published (a grace window), the old token's signature verifies but it
	// is no longer the bot's token.
	dir := t.TempDir()
	file := filepath.Join(dir, "retired_jwks.json")
	writeJWKS(t, file, map[string]*rsa.PrivateKey{"old": oldKeys.privateKey})
	grace := serverChecker(newKeys, es, clock, "file:"+file)
	if _, err := grace.check(old); err != errBotTokenMismatch {
		t.Fatalf("old token in the grace window after regeneration: %v", err)
	}

	// --expiry Seven.
	seven, _ := parseExpiry("Seven")
	if _, err := regenerateBotTokens(es, newKeys, seven, now); err != nil {
		t.Fatal(err)
	}
	_, claims := tokenParts(t, storedToken(t, es, "ingestion-bot"))
	if claims["exp"] != float64(now.AddDate(0, 0, 7).Unix()) {
		t.Fatalf("exp %v", claims["exp"])
	}

	// No key pair loaded: every JWT bot FAILED (the command's status is then 1), the token kept.
	before := storedToken(t, es, "ingestion-bot")
	rows, err = regenerateBotTokens(es, tokenGenerator{}, unlimitedExpiry, now)
	if err != nil || rows[0][1] != "FAILED" || rows[0][2] != errTokenCreation.Error() || storedToken(t, es, "ingestion-bot") != before {
		t.Fatalf("%v %v", rows, err)
	}
}

func TestDeployPipelinesFailsWithAStaleBotTokenAndPinsTheRegeneratedOne(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	oldKeys, newKeys := keyPair(t, "old"), keyPair(t, "new")
	es := rotated(t, oldKeys, now)
	if err := seedPipelines(es, now); err != nil {
		t.Fatal(err)
	}
	verify := func(token string) error {
		_, err := serverChecker(newKeys, es, clock).check(token)
		return err
	}

	rows, err := deployPipelines(es, verify, 20, now)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"sample_postgres_metadata", "metadata", "sample_postgres", "FAILED - HTTP 401"},
		{"sample_postgres_usage", "usage", "sample_postgres", "FAILED - HTTP 401"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("with the stale token: %v", rows)
	}
	if pinned, _ := es.deployments(); len(pinned) != 0 {
		t.Fatalf("a failed deployment pinned %v", pinned)
	}

	if _, err := regenerateBotTokens(es, newKeys, unlimitedExpiry, now); err != nil {
		t.Fatal(err)
	}
	rows, err = deployPipelines(es, verify, 1, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if row[3] != "DEPLOYED" {
			t.Fatalf("after regeneration: %v", rows)
		}
	}
	fresh := storedToken(t, es, "ingestion-bot")
	pinned, _ := es.deployments()
	pipelines, _ := es.listPipelines()
	if len(pinned) != 2 {
		t.Fatalf("pinned %v", pinned)
	}
	for _, p := range pipelines {
		if !p.Deployed || pinned[p.ID].BotToken != fresh || tokenKid(pinned[p.ID].BotToken) != "new" {
			t.Fatalf("pipeline %s: deployed %t, pinned kid %q", p.Name, p.Deployed, tokenKid(pinned[p.ID].BotToken))
		}
	}

	// No ingestion bot: upstream's message for every pipeline.
	bare := newMemStore()
	_ = seedPipelines(bare, now)
	rows, _ = deployPipelines(bare, verify, 20, now)
	if len(rows) != 2 || rows[0][3] != "FAILED - Failed to retrieve ingestion-bot JWT token" {
		t.Fatalf("without a bot: %v", rows)
	}
	// No pipelines: no rows, upstream's empty table.
	if rows, _ := deployPipelines(newMemStore(), verify, 20, now); len(rows) != 0 {
		t.Fatalf("no pipelines: %v", rows)
	}
	table := renderASCIITable([]string{"Name", "Type", "Service Name", "Status"}, nil, "No Pipelines Found")
	if table != "+------+------+--------------+--------+\n| Name | Type | Service Name | Status |\n+------+------+--------------+--------+\n| No Pipelines Found                  |\n+------+------+--------------+--------+\n" {
		t.Fatalf("empty table:\n%s", table)
	}
}

func TestTheResultTableIsOpenMetadatasAsciiTable(t *testing.T) {
	got := renderASCIITable([]string{"Bot", "Status", "Details"}, [][]string{{"ingestion-bot", "SUCCESS", "Token regenerated"}, {"x", "SKIPPED"}}, "No bots found")
	want := "" +
		"+---------------+---------+-------------------+\n" +
		"| Bot           | Status  | Details           |\n" +
		"+---------------+---------+-------------------+\n" +
		"| ingestion-bot | SUCCESS | Token regenerated |\n" +
		"| x             | SKIPPED | -                 |\n" +
		"+---------------+---------+-------------------+\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// withErrOut captures what the CLI writes to standard error, and resets -d.
func withErrOut(t *testing.T) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	errOut = &b
	t.Cleanup(func() { errOut = os.Stderr; debugEnabled = false })
	return &b
}

func TestRegenerateBotTokensExistsFromRelease1_13_0AndIsUnknownToPicocliBefore(t *testing.T) {
	for text, want := range map[string]bool{"1.9.4": false, "1.12.14": false, "1.13.0": true, "1.13.1": true, "2.0.10": true, "2.1.0": true} {
		r, _ := parseRelease(text)
		if hasRegenerateBotTokens(r) != want {
			t.Errorf("%s: %t", text, !want)
		}
	}

	ops := filepath.Join(t.TempDir(), "bootstrap", "openmetadata-ops.sh")
	t.Setenv("OM_STANDIN_VERSION", "1.9.4")
	out := withErrOut(t)
	if code := opsMain(ops, []string{"regenerate-bot-tokens"}); code != 2 {
		t.Fatalf("status %d", code)
	}
	// What picocli 4.7.6 itself printed for these subcommands (picocli.go).
	if out.String() != "Unmatched argument at index 2: 'regenerate-bot-tokens'\n"+
		"Did you mean: OpenMetadataSetup create-user or OpenMetadataSetup migrate-secrets or OpenMetadataSetup migrate?\n" {
		t.Fatalf("%q", out.String())
	}
	out.Reset()
	if code := opsMain(ops, []string{"-d", "regenerate-bot-tokens", "--expiry", "Seven"}); code != 2 ||
		!strings.HasPrefix(out.String(), "Unmatched arguments from index 3: 'regenerate-bot-tokens', '--expiry', 'Seven'\n") {
		t.Fatalf("%d %q", code, out.String())
	}

	// From 1.13.0 it is a subcommand: its options are parsed, then it runs (here on a
	// configuration file that does not exist: the command's own failure, status 1).
	t.Setenv("OM_STANDIN_VERSION", "1.13.1")
	out.Reset()
	if code := opsMain(ops, []string{"regenerate-bot-tokens", "--expiry=weekly"}); code != 2 ||
		!strings.HasPrefix(out.String(), "Invalid value for option '--expiry': expected one of [OneHour, One, 1, Seven, 7, ") {
		t.Fatalf("%d %q", code, out.String())
	}
	out.Reset()
	if code := opsMain(ops, []string{"regenerate-bot-tokens", "--expiry", "7"}); code != 1 || out.Len() != 0 {
		t.Fatalf("%d %q", code, out.String())
	}
	if code := opsMain(ops, []string{"deploy-pipelines", "--chunk-size", "0"}); code != 1 {
		t.Fatalf("deploy-pipelines --chunk-size 0: %d", code)
	}
}

func TestSuggestionsFollowPicocliCosineSimilarity(t *testing.T) {
	if got := mostSimilar("regenerate-bot-tokens", subcommandsBeforeRegenerate)[:3]; !reflect.DeepEqual(got, []string{"create-user", "migrate-secrets", "migrate"}) {
		t.Fatalf("%v", got)
	}
	if got := mostSimilar("migrat", []string{"migrate", "info", "drop-create"}); got[0] != "migrate" {
		t.Fatalf("%v", got)
	}
	if got := mostSimilar("zz", []string{"info"}); len(got) != 0 {
		t.Fatalf("%v", got)
	}
}
