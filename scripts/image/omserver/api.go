package main

import (
	"encoding/json"
	"net/http"
	"regexp"
)

// The read endpoints the tests use to see the bots and pipelines (1.10 and later, where the
// stand-in keeps them in the database). Not upstream: none of them asks for a token or an admin
// (the stand-in has no users to authorise and a test needs them when every token is stale);
// README.md says so.

// errorBody is the body of the server's error answers, {"code": N, "message": "..."}, as the
// stand-in's other errors (tokencheck.go).
func writeError(w http.ResponseWriter, status int, message string) {
	body, _ := json.Marshal(map[string]any{"code": status, "message": message})
	writeJSON(w, status, body)
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func registerEntityEndpoints(mux *http.ServeMux, d *dbAccess) {
	// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/resources/bots/BotResource.java
	// @ 0582ca4cfbbd64742fddb36deae90e1154292591: GET /v1/bots/name/{name} → the Bot (non-deleted by
	// default) with its botUser reference; an unknown name: 404, CatalogExceptionMessage.entityNotFound
	// "bot instance for <name> not found" (.../exception/CatalogExceptionMessage.java, stored
	// versions: "%s instance for %s not found"). The token is not part of it. Not upstream: no
	// authentication, no href, no include parameter.
	mux.HandleFunc("GET /api/v1/bots/name/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		var bot *botEntity
		if err := d.with(func(es entityStore) (err error) { bot, err = es.botByName(name); return }); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		if bot == nil {
			writeError(w, http.StatusNotFound, "bot instance for "+name+" not found")
			return
		}
		writeJSON(w, http.StatusOK, mustJSON(bot))
	})

	// OpenMetadata .../resources/teams/UserResource.java @ 1aa230fdb9666e5fbaa511f2cff3bb84feffce22
	// (Jason-Clark-FG/OpenMetadata-Mirror): GET /v1/users/token/{id} reads the user (404 "user
	// instance for <id> not found"), refuses a user that is not a bot (IllegalArgumentException "JWT
	// token is only supported for bot users", a 400), checks authorizeAdmin, and returns the stored
	// JWTAuthMechanism {JWTToken, JWTTokenExpiry, JWTTokenExpiresAt} when the authType is JWT, else
	// an empty one ({}). An id that is no UUID is a path-parameter conversion failure: 404. Not
	// upstream: the admin check is skipped (README.md).
	mux.HandleFunc("GET /api/v1/users/token/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if !uuidPattern.MatchString(id) {
			writeError(w, http.StatusNotFound, "HTTP 404 Not Found")
			return
		}
		var user *userEntity
		if err := d.with(func(es entityStore) (err error) { user, err = es.userByID(id); return }); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		if user == nil {
			writeError(w, http.StatusNotFound, "user instance for "+id+" not found")
			return
		}
		if !user.IsBot {
			writeError(w, http.StatusBadRequest, "JWT token is only supported for bot users")
			return
		}
		m, ok := user.jwt()
		if !ok {
			m = jwtAuthMechanism{}
		}
		writeJSON(w, http.StatusOK, mustJSON(m))
	})

	// Not upstream (a stand-in-only view): the list GET /v1/services/ingestionPipelines of
	// IngestionPipelineResource (COLLECTION_PATH "v1/services/ingestionPipelines/", used by
	// OpenMetadataOperations @ 0fc4e436cc4862b4d3cca2060865eee15ee0dcc5 for the bulk deploy) in
	// upstream's list shape {"data": [...], "paging": {"total": N}}, with each pipeline's id, name,
	// fullyQualifiedName, pipelineType, service and deployed, plus `standinDeployment`: the key id of
	// the bot token the last deployment pinned (never the token), when it was deployed, and whether
	// that token is still the ingestion bot's stored token. Upstream the pinned token lives in the
	// pipeline service's DAG configuration and no API shows it.
	mux.HandleFunc("GET /api/v1/services/ingestionPipelines", func(w http.ResponseWriter, _ *http.Request) {
		type standinDeployment struct {
			BotTokenKid       string `json:"botTokenKid"`
			DeployedAt        int64  `json:"deployedAt"`
			BotTokenIsCurrent bool   `json:"botTokenIsCurrent"`
		}
		type item struct {
			pipelineEntity
			StandinDeployment *standinDeployment `json:"standinDeployment,omitempty"`
		}
		var items []item
		err := d.with(func(es entityStore) error {
			pipelines, err := es.listPipelines()
			if err != nil {
				return err
			}
			pinned, err := es.deployments()
			if err != nil {
				return err
			}
			current, _ := storedBotToken(es, ingestionBotName)
			items = make([]item, 0, len(pipelines))
			for _, p := range pipelines {
				it := item{pipelineEntity: p}
				if dep, ok := pinned[p.ID]; ok {
					it.StandinDeployment = &standinDeployment{
						BotTokenKid: tokenKid(dep.BotToken), DeployedAt: dep.DeployedAt,
						BotTokenIsCurrent: current != "" && dep.BotToken == current,
					}
				}
				items = append(items, it)
			}
			return nil
		})
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, mustJSON(map[string]any{"data": items, "paging": map[string]int{"total": len(items)}}))
	})
}
