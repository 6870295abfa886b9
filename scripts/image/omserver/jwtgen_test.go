package main

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func tokenParts(t *testing.T, token string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	for i, into := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("part %d is not unpadded base64url: %v", i, err)
		}
		if err := json.Unmarshal(raw, into); err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
	}
	return header, claims
}

func TestBotTokensCarryJWTTokenGeneratorsClaimsAndNoExpiryWhenUnlimited(t *testing.T) {
	g := keyPair(t, "kid-1")
	now := time.Unix(1_800_000_000, 0)
	bot := &userEntity{Name: "ingestion-bot", Email: "ingestion-bot@open-metadata.org", IsBot: true}

	m, err := g.generateJWTToken(bot, unlimitedExpiry, now)
	if err != nil {
		t.Fatal(err)
	}
	header, claims := tokenParts(t, m.token())
	if header["alg"] != "RS256" || header["typ"] != "JWT" || header["kid"] != "kid-1" || len(header) != 3 {
		t.Errorf("header %v", header)
	}
	want := map[string]any{
		"iss": "open-metadata.org", "sub": "ingestion-bot", "email": "ingestion-bot@open-metadata.org",
		"isBot": true, "tokenType": "BOT", "iat": float64(now.Unix()),
	}
	if len(claims) != len(want) {
		t.Errorf("claims %v, want exactly %v (no exp)", claims, want)
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	if *m.JWTTokenExpiry != "Unlimited" || m.JWTTokenExpiresAt != nil {
		t.Errorf("mechanism %s", mustJSON(m))
	}
	if string(mustJSON(m)) != `{"JWTToken":"`+m.token()+`","JWTTokenExpiry":"Unlimited"}` {
		t.Errorf("JWTAuthMechanism JSON %s", mustJSON(m))
	}
	// The server's own key verifies it (no bot comparison here: no bots).
	checker := newTokenChecker(g, nil)
	checker.now = func() time.Time { return now.Add(1000 * 24 * time.Hour) }
	if sub, err := checker.check(m.token()); err != nil || sub != "ingestion-bot" {
		t.Fatalf("check: %q %v", sub, err)
	}

	seven, err := g.generateJWTToken(bot, tokenExpiries[2], now)
	if err != nil {
		t.Fatal(err)
	}
	_, claims = tokenParts(t, seven.token())
	wantExp := now.AddDate(0, 0, 7)
	if claims["exp"] != float64(wantExp.Unix()) || *seven.JWTTokenExpiry != "7" || *seven.JWTTokenExpiresAt != wantExp.UnixMilli() {
		t.Errorf("Seven: exp %v, mechanism %s", claims["exp"], mustJSON(seven))
	}

	// No key pair loaded: JWTCreationException's message.
	if _, err := (tokenGenerator{}).generateJWTToken(bot, unlimitedExpiry, now); err == nil ||
		err.Error() != "Failed to generate JWT Token. Please check your OpenMetadata Configuration." {
		t.Errorf("without keys: %v", err)
	}
}

func TestExpiryIsParsedAsPicocliConvertsJWTTokenExpiry(t *testing.T) {
	for text, name := range map[string]string{"Seven": "Seven", "7": "Seven", "OneHour": "OneHour", "1": "One", "Unlimited": "Unlimited"} {
		e, err := parseExpiry(text)
		if err != nil || e.name != name {
			t.Errorf("%q: %v %v", text, e.name, err)
		}
	}
	_, err := parseExpiry("seven")
	want := "expected one of [OneHour, One, 1, Seven, 7, Thirty, 30, Sixty, 60, Ninety, 90, Unlimited] (case-sensitive) but was 'seven'"
	if err == nil || err.Error() != want {
		t.Errorf("got %v", err)
	}
}
