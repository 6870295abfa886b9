package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestTheIngestionBotIsCreatedOnceAndARestartWithNewKeysKeepsItsToken(t *testing.T) {
	es := newMemStore()
	now := time.Unix(1_800_000_000, 0)
	oldKeys, newKeys := keyPair(t, "old"), keyPair(t, "new")

	if err := ensureIngestionBot(es, oldKeys, "open-metadata.org", now); err != nil {
		t.Fatal(err)
	}
	user, _ := es.userByName("ingestion-bot")
	if user == nil || !user.IsBot || user.IsAdmin || user.Email != "ingestion-bot@open-metadata.org" {
		t.Fatalf("bot user %+v", user)
	}
	first := storedToken(t, es, "ingestion-bot")
	if tokenKid(first) != "old" {
		t.Fatalf("first token's kid %q", tokenKid(first))
	}
	bot, _ := es.botByName("ingestion-bot")
	if bot == nil || bot.BotUser == nil || bot.BotUser.ID != user.ID || bot.Provider != "system" {
		t.Fatalf("bot %+v", bot)
	}

	// A restart with another key pair: the stored mechanism is kept (addOrUpdateBotUser).
	if err := ensureIngestionBot(es, newKeys, "open-metadata.org", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := storedToken(t, es, "ingestion-bot"); got != first {
		t.Fatalf("the restart renewed the token (kid %q)", tokenKid(got))
	}
	if bots, _ := es.listBots(); len(bots) != 1 {
		t.Fatalf("bots %v", bots)
	}

	// Only a bot user without any authentication mechanism gets a new one.
	user.AuthenticationMechanism = nil
	_ = es.updateUser(user)
	if err := ensureIngestionBot(es, newKeys, "open-metadata.org", now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := storedToken(t, es, "ingestion-bot"); tokenKid(got) != "new" {
		t.Fatalf("kid %q", tokenKid(got))
	}

	// Key files that did not load: no token can be made, the start goes on without a bot.
	empty := newMemStore()
	if err := ensureIngestionBot(empty, tokenGenerator{}, "open-metadata.org", now); err != nil {
		t.Fatal(err)
	}
	if u, _ := empty.userByName("ingestion-bot"); u != nil {
		t.Fatalf("a bot user without a token: %+v", u)
	}
}

func TestABotTokenIsAcceptedOnlyWhenItEqualsTheStoredOneAsTheCacheSeesIt(t *testing.T) {
	es := newMemStore()
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	keys := keyPair(t, "current")
	if err := ensureIngestionBot(es, keys, "open-metadata.org", now); err != nil {
		t.Fatal(err)
	}
	stored := storedToken(t, es, "ingestion-bot")
	checker := serverChecker(keys, es, clock)

	if sub, err := checker.check(stored); err != nil || sub != "ingestion-bot" {
		t.Fatalf("the stored token: %q %v", sub, err)
	}
	// Same key, same bot, but not the stored token (another iat): the filter refuses it.
	user, _ := es.userByName("ingestion-bot")
	other, _ := keys.generateJWTToken(user, unlimitedExpiry, now.Add(time.Second))
	if _, err := checker.check(other.token()); err != errBotTokenMismatch {
		t.Fatalf("another token of the bot: %v", err)
	}
	// A token without isBot is not compared; a bot token of an unknown bot is refused.
	if _, err := checker.check(sign(t, keys.privateKey, "current", map[string]any{"sub": "ingestion-bot"})); err != nil {
		t.Fatalf("a user token: %v", err)
	}
	if _, err := checker.check(sign(t, keys.privateKey, "current", map[string]any{"sub": "ghost", "isBot": true})); err != errBotTokenMismatch {
		t.Fatalf("an unknown bot: %v", err)
	}
	// No principal claim at all.
	if _, err := checker.check(sign(t, keys.privateKey, "current", map[string]any{"isBot": true})); err == nil ||
		err.Error() != "Invalid JWT token, none of the following claims are present [email, preferred_username, sub]" {
		t.Fatalf("no principal claim: %v", err)
	}

	// The database changes (as regenerate-bot-tokens writes it): for two minutes after the server
	// loaded the old token it still compares with that one.
	user.setJWT(other)
	_ = es.updateUser(user)
	now = now.Add(botTokenCacheTTL - time.Second)
	if _, err := checker.check(stored); err != nil {
		t.Fatalf("old token within the cache's two minutes: %v", err)
	}
	if _, err := checker.check(other.token()); err != errBotTokenMismatch {
		t.Fatalf("new token within the cache's two minutes: %v", err)
	}
	now = now.Add(time.Second)
	if _, err := checker.check(stored); err != errBotTokenMismatch {
		t.Fatalf("old token after the cache expired: %v", err)
	}
	if _, err := checker.check(other.token()); err != nil {
		t.Fatalf("new token after the cache expired: %v", err)
	}

	// A revoked token ("") is never kept: every check loads it again.
	empty := ""
	user.setJWT(jwtAuthMechanism{JWTToken: &empty})
	_ = es.updateUser(user)
	now = now.Add(botTokenCacheTTL)
	if _, err := checker.check(other.token()); err != errBotTokenMismatch {
		t.Fatalf("after a revocation: %v", err)
	}
	user.setJWT(other)
	_ = es.updateUser(user)
	if _, err := checker.check(other.token()); err != nil {
		t.Fatalf("a revoked entry is loaded again at once: %v", err)
	}

	// Through the endpoint: 401 with the filter's message.
	handler := loggedInUserHandler(checker)
	req := httptest.NewRequest("GET", "/api/v1/users/loggedInUser", nil)
	req.Header.Set("Authorization", "Bearer "+stored)
	rec := httptest.NewRecorder()
	handler(rec, req)
	if rec.Code != 401 || !strings.Contains(rec.Body.String(), `"message":"The given token does not match the current bot's token!"`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestTheReadEndpointsShowTheBotTokenOnlyWhereUpstreamDoes(t *testing.T) {
	es := newMemStore()
	now := time.Unix(1_800_000_000, 0)
	keys := keyPair(t, "current")
	if err := ensureIngestionBot(es, keys, "open-metadata.org", now); err != nil {
		t.Fatal(err)
	}
	if err := seedPipelines(es, now); err != nil {
		t.Fatal(err)
	}
	stored := storedToken(t, es, "ingestion-bot")
	server := httptest.NewServer(apiHandler("1.13.1", keys, []byte(`{}`), newTokenChecker(keys, nil), es.access()))
	defer server.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(server.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}

	code, body := get("/api/v1/bots/name/ingestion-bot")
	var bot botEntity
	if code != 200 || json.Unmarshal([]byte(body), &bot) != nil || bot.BotUser == nil || strings.Contains(body, stored) {
		t.Fatalf("%d %s", code, body)
	}
	code, body = get("/api/v1/users/token/" + bot.BotUser.ID)
	if code != 200 || body != `{"JWTToken":"`+stored+`","JWTTokenExpiry":"Unlimited"}` {
		t.Fatalf("%d %s", code, body)
	}
	if code, body = get("/api/v1/bots/name/nobody"); code != 404 || !strings.Contains(body, "bot instance for nobody not found") {
		t.Fatalf("%d %s", code, body)
	}
	if code, _ = get("/api/v1/users/token/not-a-uuid"); code != 404 {
		t.Fatalf("not a UUID: %d", code)
	}

	// Pipelines: before a deployment no pin; after one, the pinned token's kid and never the token.
	code, body = get("/api/v1/services/ingestionPipelines")
	if code != 200 || strings.Contains(body, "standinDeployment") || !strings.Contains(body, `"total":2`) {
		t.Fatalf("%d %s", code, body)
	}
	rows, err := deployPipelines(es, func(string) error { return nil }, 20, now)
	if err != nil || len(rows) != 2 {
		t.Fatalf("%v %v", rows, err)
	}
	code, body = get("/api/v1/services/ingestionPipelines")
	var view struct {
		Data []struct {
			FullyQualifiedName string `json:"fullyQualifiedName"`
			Deployed           bool   `json:"deployed"`
			StandinDeployment  struct {
				BotTokenKid       string `json:"botTokenKid"`
				BotTokenIsCurrent bool   `json:"botTokenIsCurrent"`
			} `json:"standinDeployment"`
		} `json:"data"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &view) != nil || len(view.Data) != 2 || strings.Contains(body, stored) {
		t.Fatalf("%d %s", code, body)
	}
	for _, p := range view.Data {
		if !p.Deployed || p.StandinDeployment.BotTokenKid != "current" || !p.StandinDeployment.BotTokenIsCurrent {
			t.Errorf("%+v", p)
		}
	}
}
