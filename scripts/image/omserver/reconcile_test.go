package main

import (
	"errors"
	"testing"
)

func TestEnvModeRefusesANewProviderOnlyOnTheSwitchUnlessConfirmed(t *testing.T) {
	stored := obj{"provider": "custom-oidc", "clientType": "public", "authority": "https://a", "clientId": "one", "callbackUrl": "https://cb"}
	deployment := obj{"provider": "custom-oidc", "clientType": "public", "authority": "https://a", "clientId": "two", "callbackUrl": "https://cb"}
	template := []string{"/authority", "/callbackUrl", "/clientId", "/clientType", "/provider"}
	if _, _, err := mergeEnv(true, deployment, stored, nil, template, true, false); !errors.Is(err, errProviderChange) {
		t.Fatalf("switching to ENV with another client id: %v", err)
	}
	merged, changed, err := mergeEnv(true, deployment, stored, nil, template, true, true)
	if err != nil || !changed || merged.(obj)["clientId"] != "two" {
		t.Fatalf("confirmed: %v %v %v", merged, changed, err)
	}
	if _, _, err := mergeEnv(true, deployment, stored, nil, template, false, false); err != nil {
		t.Fatalf("not a switch: %v", err)
	}
	if _, _, err := mergeEnv(false, deployment, stored, nil, template, true, false); err != nil {
		t.Fatalf("the authorizer has no identity provider: %v", err)
	}
}

func TestEnvModeOverwritesOnlyFieldsTheFileDefines(t *testing.T) {
	stored := obj{"provider": "custom-oidc", "clientId": "c", "callbackUrl": "old", "jwtTeamClaimMapping": "dept", "providerName": "Name"}
	deployment := obj{"provider": "custom-oidc", "clientId": "c", "callbackUrl": "new", "providerName": ""}
	template := []string{"/callbackUrl", "/clientId", "/provider", "/providerName"}
	merged, changed, err := mergeEnv(true, deployment, stored, nil, template, false, false)
	m := merged.(obj)
	if err != nil || !changed || m["callbackUrl"] != "new" || m["jwtTeamClaimMapping"] != "dept" {
		t.Fatalf("%v %v %v", merged, changed, err)
	}
	if _, ok := m["providerName"]; ok {
		t.Error("a blank deployment value removes the stored field")
	}
}

func TestProviderIdentity(t *testing.T) {
	conf := func(id, disc string) obj {
		return obj{"provider": "custom-oidc", "clientType": "confidential", "authority": "https://a", "clientId": "c",
			"oidcConfiguration": obj{"id": id, "discoveryUri": disc, "secret": "x"}}
	}
	if !sameProvider(conf("c", "d"), conf("c", "d ")) {
		t.Error("text is trimmed")
	}
	if sameProvider(conf("c", "d"), conf("other", "d")) {
		t.Error("the confidential client id is part of the identity")
	}
	if !sameProvider(obj{"provider": "openmetadata"}, obj{"provider": "basic", "clientId": "ignored"}) {
		t.Error("basic and openmetadata are the same password authenticator")
	}
}
