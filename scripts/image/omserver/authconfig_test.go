package main

import (
	"strings"
	"testing"
)

func boundAuth(t *testing.T) obj {
	t.Helper()
	a, err := bindAuthentication(obj{
		"provider": "custom-oidc", "providerName": "Corp", "clientType": "confidential",
		"clientId": "om", "authority": "https://idp", "callbackUrl": "",
		"responseType": "code", "publicKeyUrls": []any{"https://idp/keys"},
		"tokenValidationAlgorithm": "RS512", "enableSelfSignup": false, "enableAutoRedirect": true,
		"jwtPrincipalClaims": []any{"email"}, "jwtPrincipalClaimsMapping": []any{},
		"oidcConfiguration": obj{"id": "om", "secret": "s3cr3t"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestVariantDDropsResponseTypePublicKeyUrlsAndAlgorithm(t *testing.T) {
	got := string(encodeAuth(authView(boundAuth(t), false, false)))
	want := `{"clientType":"confidential","provider":"custom-oidc","responseType":"id_token","providerName":"Corp",` +
		`"publicKeyUrls":[],"tokenValidationAlgorithm":"RS256","authority":"https://idp","clientId":"om",` +
		`"callbackUrl":"","additionalTrustedRedirectUris":[],"jwtPrincipalClaims":["email"],` +
		`"jwtPrincipalClaimsMapping":[],"enableSelfSignup":false,"forceSecureSessionCookie":false,` +
		`"maxActiveSessionsPerUser":5,"enableAutoRedirect":false}`
	if got != want {
		t.Errorf("variant D:\n got %s\nwant %s", got, want)
	}
	if strings.Contains(got, "s3cr3t") || strings.Contains(got, "oidcConfiguration") {
		t.Error("oidcConfiguration is never shown")
	}
}

func TestTheFixOfPR31516AndTheLaterCopyShowMore(t *testing.T) {
	got := string(encodeAuth(authView(boundAuth(t), true, true)))
	for _, part := range []string{`"responseType":"code"`, `"publicKeyUrls":["https://idp/keys"]`,
		`"tokenValidationAlgorithm":"RS512"`, `"enableAutoRedirect":true`} {
		if !strings.Contains(got, part) {
			t.Errorf("missing %s in %s", part, got)
		}
	}
}

func TestANullConfigurationGivesTheFreshPOJO(t *testing.T) {
	got := string(encodeAuth(authView(nil, false, false)))
	if got != `{"clientType":"public","responseType":"id_token","publicKeyUrls":[],"tokenValidationAlgorithm":"RS256",`+
		`"additionalTrustedRedirectUris":[],"jwtPrincipalClaims":[],"jwtPrincipalClaimsMapping":[],`+
		`"enableSelfSignup":false,"forceSecureSessionCookie":false,"maxActiveSessionsPerUser":5,"enableAutoRedirect":false}` {
		t.Error(got)
	}
}

func TestSAMLShowsOnlyTheIdentityProvidersAuthorityURL(t *testing.T) {
	a, err := bindAuthentication(obj{"provider": "saml", "samlConfiguration": obj{"idp": obj{"authorityUrl": "https://idp/sso", "entityId": "x"}, "sp": obj{"spPrivateKey": "k"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(encodeAuth(authView(a, false, false))); !strings.Contains(got, `"samlConfiguration":{"idp":{"authorityUrl":"https://idp/sso"}}`) {
		t.Error(got)
	}
}
