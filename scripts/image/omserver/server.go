package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// apiHandler serves the server's unauthenticated endpoints the operator reads.
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/security/JwtFilter.java
// (EXCLUDED_ENDPOINTS, stored versions; openmetadata-server-behaviour.md §3): v1/system/config/jwks,
// v1/system/config/auth, v1/system/health and v1/system/version need no token, under /api.
//
// db is nil up to 1.9 (no database); from 1.10 on it serves the bot and pipeline endpoints (api.go).
func apiHandler(releaseText string, generator tokenGenerator, auth []byte, tokens *tokenChecker, db *dbAccess) http.Handler {
	mux := http.NewServeMux()
	if db != nil {
		registerEntityEndpoints(mux, db)
	}
	// An authenticated endpoint, for the grace window of key rotations (tokencheck.go).
	mux.HandleFunc("GET /api/v1/users/loggedInUser", loggedInUserHandler(tokens))
	// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/resources/version/VersionResource.java
	// (stored version; the index names 75d12884e2612aba666e816d8108db6420022be5 for the file):
	// GET /v1/system/version answers OpenMetadataServerVersion {version, revision, timestamp}
	// read from the build's catalog/VERSION. The stand-in answers the release it plays, says what
	// it is in revision, and gives its build time in milliseconds.
	versionBody, _ := json.Marshal(struct {
		Version   string `json:"version"`
		Revision  string `json:"revision"`
		Timestamp int64  `json:"timestamp"`
	}{releaseText, standinName(), buildTimestamp()})
	mux.HandleFunc("GET /api/v1/system/version", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, versionBody)
	})
	// OpenMetadata .../resources/system/ConfigResource.java @ 0e163a199a00f087927e666a252de79e5218d4b4:
	// GET /v1/system/config/jwks returns jwtTokenGenerator.getJWKSResponse() (jwks.go).
	jwks := generator.jwks()
	mux.HandleFunc("GET /api/v1/system/config/jwks", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, jwks)
	})
	// ConfigResource GET /v1/system/config/auth (authconfig.go's authView, computed at start from
	// the state that stays in memory until a restart).
	mux.HandleFunc("GET /api/v1/system/config/auth", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, auth)
	})
	// GET /api/v1/system/health: unauthenticated (JwtFilter.EXCLUDED_ENDPOINTS) and what
	// OpenMetadata's official Helm chart probes for liveness and readiness
	// (shared/fixtures/openmetadata-helm-chart values.yaml). Its resource was not found in the
	// index, so the body is the stand-in's: 200 with {} once the server has started.
	mux.HandleFunc("GET /api/v1/system/health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, []byte("{}"))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		// Jersey's answer to an unknown resource, as Dropwizard's exception mapper writes it.
		writeJSON(w, http.StatusNotFound, []byte(`{"code":404,"message":"HTTP 404 Not Found"}`))
	})
	return withServerHeader(mux)
}

// adminHandler is Dropwizard's admin connector as far as the official chart's startupProbe
// (GET /healthcheck on the admin port) needs it: 200 while every health check is healthy. The
// checks' names and fields are not transcribed.
func adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthcheck", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, []byte(`{"deadlocks":{"healthy":true}}`))
	})
	return withServerHeader(mux)
}

func withServerHeader(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", standinName())
		logDebug("%s %s", r.Method, r.URL.RequestURI())
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func buildTimestamp() int64 {
	ms, err := strconv.ParseInt(buildTime, 10, 64)
	if err != nil {
		panic(fmt.Sprintf("bad build time %q", buildTime))
	}
	return ms
}
