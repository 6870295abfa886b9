module example.invalid/oidc-sso-testapp

go 1.24
