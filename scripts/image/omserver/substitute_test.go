package main

import (
	"strings"
	"testing"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func TestSubstitutionIsTextualAsCommonsTextDoesIt(t *testing.T) {
	vars := map[string]string{
		"SET":     "value",
		"EMPTY":   "",
		"QUOTED":  `"/var/run/keys/public_key.der"`,
		"NESTED":  "${SET}-again",
		"NAME":    "SET",
		"LOOP":    "${LOOP}",
		"DOLLARS": "a$$b",
		"ESCAPED": "$${SET}",
		"LIST":    `["a","b"]`,
	}
	cases := []struct{ in, want string }{
		{"x: ${SET}", "x: value"},
		{"x: ${UNSET:-fallback}", "x: fallback"},
		{`x: ${UNSET:-""}`, `x: ""`},
		{"x: ${EMPTY:-fallback}", "x: "}, // set to "" wins over the default
		{"x: ${UNSET}", "x: ${UNSET}"},   // non-strict: left as written
		{"x: ${QUOTED:-./conf/public_key.der}", `x: "/var/run/keys/public_key.der"`},
		{"x: ${NESTED}", "x: value-again"},  // values are substituted again
		{"x: ${${NAME}}", "x: value"},       // names are substituted first
		{"x: ${UNSET:-${SET}}", "x: value"}, // so are defaults
		{"x: $${SET}", "x: ${SET}"},         // escape
		{"x: ${ESCAPED}", "x: ${SET}"},      // an escape inside a value
		{"x: ${DOLLARS}", "x: a$$b"},
		{"x: ${LIST:-[]}", `x: ["a","b"]`},
		{"url: jdbc:${UNSET:-mysql}://${SET}:${UNSET:-3306}/db", "url: jdbc:mysql://value:3306/db"},
		{"unterminated ${SET", "unterminated ${SET"},
	}
	for _, c := range cases {
		got, err := substitute(c.in, env(vars))
		if err != nil || got != c.want {
			t.Errorf("substitute(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := substitute("x: ${LOOP}", env(vars)); err == nil || !strings.Contains(err.Error(), "infinite loop") {
		t.Errorf("a variable that refers to itself must fail, got %v", err)
	}
}

func TestOperatorQuotedValuesParseAsTheServerSeesThem(t *testing.T) {
	raw := `authenticationConfiguration:
  provider: ${AUTHENTICATION_PROVIDER:-basic}
  clientId: ${AUTHENTICATION_CLIENT_ID:-""}
  enableSelfSignup : ${AUTHENTICATION_ENABLE_SELF_SIGNUP:-true}
  publicKeyUrls: ${AUTHENTICATION_PUBLIC_KEYS:-[http://localhost:8585/api/v1/system/config/jwks]}
  sessionExpiry: ${AUTHENTICATION_SESSION_EXPIRY:-"604800"}
  providerName: ${CUSTOM_OIDC_AUTHENTICATION_PROVIDER_NAME:-""}
jwtTokenConfiguration:
  rsapublicKeyFilePath: ${RSA_PUBLIC_KEY_FILE_PATH:-"./conf/public_key.der"}
  rsaprivateKeyFilePath: ${RSA_PRIVATE_KEY_FILE_PATH:-"./conf/private_key.der"}
  jwtissuer: ${JWT_ISSUER:-"open-metadata.org"}
  keyId: ${JWT_KEY_ID:-"Gb389a-9f76-gdjs-a92j-0242bk94356"}
`
	cfg, err := parseConfig("test.yaml", raw, env(map[string]string{
		"AUTHENTICATION_PROVIDER":                  `"custom-oidc"`,
		"AUTHENTICATION_CLIENT_ID":                 `"0123"`,
		"AUTHENTICATION_ENABLE_SELF_SIGNUP":        "false",
		"AUTHENTICATION_PUBLIC_KEYS":               `["https://idp/keys","http://om:8585/api/v1/system/config/jwks"]`,
		"CUSTOM_OIDC_AUTHENTICATION_PROVIDER_NAME": `"Corp \u00e9 \x24{HOME}"`,
		"RSA_PUBLIC_KEY_FILE_PATH":                 `"/var/run/keys/public_key.der"`,
		"JWT_KEY_ID":                               `"kid-1"`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.authentication
	if a["clientId"] != "0123" || a["enableSelfSignup"] != false || a["provider"] != "custom-oidc" {
		t.Errorf("bound %v", a)
	}
	if a["providerName"] != "Corp é ${HOME}" {
		t.Errorf("YAML escapes are decoded after substitution, got %q", a["providerName"])
	}
	if got := encodeJSON(a["publicKeyUrls"]); string(got) != `["https://idp/keys","http://om:8585/api/v1/system/config/jwks"]` {
		t.Errorf("publicKeyUrls %s", got)
	}
	if string(encodeJSON(a["sessionExpiry"])) != "604800" {
		t.Errorf(`a quoted "604800" binds to the Integer field as Jackson coerces it, got %v`, a["sessionExpiry"])
	}
	if cfg.jwt.publicKeyPath != "/var/run/keys/public_key.der" || cfg.jwt.privateKeyPath != "./conf/private_key.der" ||
		cfg.jwt.keyID == nil || *cfg.jwt.keyID != "kid-1" || cfg.jwt.issuer != "open-metadata.org" {
		t.Errorf("jwtTokenConfiguration %+v", cfg.jwt)
	}
	if _, err := parseConfig("t.yaml", raw, env(map[string]string{"AUTHENTICATION_PROVIDER": "nobody"})); err == nil {
		t.Error("an unknown provider must stop the start, as Jackson's enum binding does")
	}
	if _, err := parseConfig("t.yaml", raw, env(map[string]string{"AUTHENTICATION_CLIENT_ID": "[broken"})); err == nil {
		t.Error("a value that breaks the YAML must stop the start")
	}
}
