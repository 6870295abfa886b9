package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// deployPipelinesCommand is `openmetadata-ops.sh deploy-pipelines [--chunk-size N]
// [--seconds-per-pipeline N]`.
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/util/OpenMetadataOperations.java
// @ 4be7a18c160df321690d48bf7c6ecf719bbd29f2 (parkermeng2024/OpenMetadata; the version of
// Jason-Clark-FG/OpenMetadata-Mirror @ 0fc4e436cc4862b4d3cca2060865eee15ee0dcc5 is the same
// without the two options and with chunks of 20):
//   - "Deploying Pipelines via API"; --chunk-size (default 20) and --seconds-per-pipeline
//     (default 30) below 1: "--chunk-size must be at least 1, got N", status 1;
//   - parseConfig(), every non-deleted ingestion pipeline; none: the table says "No Pipelines
//     Found", status 0;
//   - getIngestionBotToken(): the ingestion-bot bot, its bot user, that user's JWT authentication
//     mechanism (decrypted), its JWTToken, i.e. the token STORED in the database; any step missing
//     logs why and gives null, and then every pipeline is "FAILED - Failed to retrieve
//     ingestion-bot JWT token";
//   - per chunk, POST <pipelineServiceClientConfiguration.metadataApiEndpoint>/v1/services/
//     ingestionPipelines/bulk/deploy with "Authorization: Bearer <that token>": the server's
//     JwtFilter checks the token like any request's, so a stored token the server's keys no
//     longer verify (or that is not the bot's current token) gets 401 and every pipeline of the
//     chunk is "FAILED - HTTP 401" (log "Chunk deployment failed with status: 401 - <body>");
//     200: per pipeline "DEPLOYED" for a 200/201 answer of the pipeline service;
//   - the table "Name", "Type", "Service Name", "Status"; a status starting with "FAILED": "Some
//     pipeline deployments failed. Check the table above for details.", status 1; an exception
//     outside: "Failed to deploy pipelines due to ", status 1.
//
// Not upstream: the stand-in has no Airflow and makes no HTTP call (a test pod sends nothing but
// to loopback). In place of the bulk deploy request it runs the server's token check itself, with
// this process's configuration: the key pair of jwtTokenConfiguration, the publicKeyUrls of the
// authentication configuration the server reads (the database row from 1.10 on, the file before),
// exp, and the bot-token comparison against the database (a fresh BotTokenCache: a running server
// may still hold an older token for up to two minutes, botcache.go). When it passes, each pipeline
// is deployed: the token it pins is recorded (standin_pipeline_deployment, entities.go) and the
// pipeline's `deployed` becomes true. metadataApiEndpoint is not read (upstream: null gives
// "FAILED - SERVER_HOST_API_URL not configured"; its template default is never null).
func deployPipelinesCommand(path string, chunkSize, secondsPerPipeline int) int {
	logInfo("Deploying Pipelines via API")
	valid := true
	if chunkSize < 1 {
		logError("--chunk-size must be at least 1, got %d", chunkSize)
		valid = false
	}
	if secondsPerPipeline < 1 {
		logError("--seconds-per-pipeline must be at least 1, got %d", secondsPerPipeline)
		valid = false
	}
	if !valid {
		return 1
	}
	cfg, st, ok := configuredStore(path, "deploy pipelines")
	if !ok {
		return 1
	}
	defer st.close()
	_, rel, err := standinRelease()
	if err != nil {
		logError("Failed to deploy pipelines due to %v", err)
		return 1
	}
	checker := serverTokenCheck(st, cfg, rel)
	rows, err := deployPipelines(st, func(token string) error {
		_, err := checker.check(token)
		return err
	}, chunkSize, time.Now())
	if err != nil {
		logError("Failed to deploy pipelines due to %v", err)
		return 1
	}
	logInfo("%s", renderASCIITable([]string{"Name", "Type", "Service Name", "Status"}, rows, "No Pipelines Found"))
	for _, row := range rows {
		if strings.HasPrefix(row[3], "FAILED") {
			logError("Some pipeline deployments failed. Check the table above for details.")
			return 1
		}
	}
	return 0
}

// serverTokenCheck is the token check the server that receives the bulk deploy would make, built
// from this process's configuration (see deployPipelinesCommand).
func serverTokenCheck(st *store, cfg *appConfig, rel release) *tokenChecker {
	current := cfg.authentication
	if rel.family() != readsFile {
		if data, err := st.getConfig(authenticationType); err == nil && data != nil {
			if parsed, err := decodeJSON(data); err == nil {
				if bound, err := bindAuthentication(parsed); err == nil {
					current = bound
				}
			}
		}
	}
	checker := newTokenChecker(loadTokenGenerator(cfg.jwt), stringsOf(current["publicKeyUrls"]))
	checker.principalClaims = stringsOf(current["jwtPrincipalClaims"])
	checker.bots = newBotTokenCache(func(name string) (string, error) { return storedBotToken(st, name) })
	return checker
}

// ingestionBotToken is OpenMetadataOperations.getIngestionBotToken: the JWT token stored for the
// ingestion bot's user, or false (with upstream's log line) when there is none.
func ingestionBotToken(es entityStore) (string, bool) {
	bot, err := es.botByName(ingestionBotName)
	if err != nil {
		logError("Failed to retrieve ingestion-bot token %v", err)
		return "", false
	}
	if bot == nil || bot.BotUser == nil {
		logError("Ingestion bot not found or bot has no associated user")
		return "", false
	}
	user, err := es.userByName(bot.BotUser.FullyQualifiedName)
	if err != nil {
		logError("Failed to retrieve ingestion-bot token %v", err)
		return "", false
	}
	if user == nil || user.AuthenticationMechanism == nil {
		logError("Bot user not found or missing authentication mechanism")
		return "", false
	}
	m, ok := user.jwt()
	if !ok {
		logError("Bot user does not have JWT authentication mechanism")
		return "", false
	}
	return m.token(), true
}

// deployPipelines deploys every non-deleted pipeline in chunks, `verify` standing for the server's
// token check of the bulk deploy request, and returns the table's rows.
func deployPipelines(es entityStore, verify func(token string) error, chunkSize int, now time.Time) ([][]string, error) {
	pipelines, err := es.listPipelines()
	if err != nil {
		return nil, err
	}
	logDebug("Pipelines size %d", len(pipelines))
	rows := [][]string{}
	if len(pipelines) == 0 {
		return rows, nil
	}
	row := func(p pipelineEntity, status string) []string {
		return []string{p.Name, p.PipelineType, p.Service.Name, status}
	}
	token, ok := ingestionBotToken(es)
	if !ok {
		logError("Failed to deploy pipelines via API: Failed to retrieve ingestion-bot JWT token")
		for _, p := range pipelines {
			rows = append(rows, row(p, "FAILED - Failed to retrieve ingestion-bot JWT token"))
		}
		return rows, nil
	}
	chunks := (len(pipelines) + chunkSize - 1) / chunkSize
	logInfo("Deploying %d pipelines via bulk API calls in chunks of %d", len(pipelines), chunkSize)
	for c := 0; c < chunks; c++ {
		chunk := pipelines[c*chunkSize : min((c+1)*chunkSize, len(pipelines))]
		logInfo("Processing chunk %d of %d (pipelines %d-%d)", c+1, chunks, c*chunkSize+1, c*chunkSize+len(chunk))
		if err := verify(token); err != nil {
			body, _ := json.Marshal(map[string]any{"code": 401, "message": err.Error()})
			logError("Chunk deployment failed with status: 401 - %s", body)
			for _, p := range chunk {
				rows = append(rows, row(p, "FAILED - HTTP 401"))
			}
			continue
		}
		for _, p := range chunk {
			if err := es.recordDeployment(p, token, now.UnixMilli()); err != nil {
				rows = append(rows, row(p, fmt.Sprintf("FAILED - 500: %v", err)))
				continue
			}
			rows = append(rows, row(p, "DEPLOYED"))
		}
	}
	logInfo("Completed bulk deployment of %d pipelines", len(pipelines))
	return rows, nil
}
