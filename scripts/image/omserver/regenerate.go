package main

import (
	"time"
)

// regenerateBotTokensCommand is `openmetadata-ops.sh regenerate-bot-tokens [--expiry E]`
// (OpenMetadata 1.13.0 and later: picocli.go's firstRegenerateRelease).
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/util/OpenMetadataOperations.java,
// regenerateBotTokens, in two stored versions:
//   - Jason-Clark-FG/OpenMetadata-Mirror @ 0fc4e436cc4862b4d3cca2060865eee15ee0dcc5 (as PR #26477
//     added it): option --expiry (JWTTokenExpiry, default Unlimited); parseConfig(), the settings
//     and JWTTokenGenerator.init with the configuration's key pair; every non-deleted bot, in
//     pages of 50; the table "Bot", "Status", "Details" (empty: "No bots found"); status 0 unless
//     the whole command failed (1, "Failed to regenerate bot tokens due to ");
//   - parkermeng2024/OpenMetadata @ 4be7a18c160df321690d48bf7c6ecf719bbd29f2 (later; its class
//     comment: the command "operates directly on the database" because after a key rotation the
//     ingestion-bot token the other commands use to call the server is invalid): the same rows,
//     but status 1 when a row is FAILED. The stand-in follows this newer one; which release took
//     it was not found.
//
// Per bot (regenerateBotTokens): no bot user → SKIPPED "No bot user associated"; a bot user whose
// authentication mechanism is null or not JWT → SKIPPED "Not using JWT authentication"; otherwise
// JWTTokenGenerator.generateJWTToken(botUser, expiry) with the current key pair, stored as the
// user's {authType: JWT, config} through UserUtil.addOrUpdateUser → SUCCESS "Token regenerated";
// an exception → FAILED with its message (and the log line "Failed to regenerate token for bot: ").
// The running servers compare with the tokens their BotTokenCache loaded for up to two minutes
// (botcache.go). Not emulated: what the 2.1 documentation adds ("reads the server's JSON Web Key
// Set from [pipelineServiceClientConfiguration.metadataApiEndpoint] and redeploys pipelines", from
// docs.open-metadata.org/v2.1.x/deployment/security/keys-rotation): no stored source has it; run
// deploy-pipelines after it.
func regenerateBotTokensCommand(path string, expiry tokenExpiry) int {
	cfg, st, ok := configuredStore(path, "regenerate bot tokens")
	if !ok {
		return 1
	}
	defer st.close()
	rows, err := regenerateBotTokens(st, loadTokenGenerator(cfg.jwt), expiry, time.Now())
	if err != nil {
		logError("Failed to regenerate bot tokens due to %v", err)
		return 1
	}
	logInfo("%s", renderASCIITable([]string{"Bot", "Status", "Details"}, rows, "No bots found"))
	for _, row := range rows {
		if row[1] == "FAILED" {
			return 1
		}
	}
	return 0
}

// regenerateBotTokens renews every non-deleted JWT bot's token in the store and returns the table's
// rows (see regenerateBotTokensCommand).
func regenerateBotTokens(es entityStore, g tokenGenerator, expiry tokenExpiry, now time.Time) ([][]string, error) {
	bots, err := es.listBots()
	if err != nil {
		return nil, err
	}
	rows := [][]string{}
	for _, bot := range bots {
		status, details := regenerateBotToken(es, g, bot, expiry, now)
		if status == "FAILED" {
			logError("Failed to regenerate token for bot: %s %s", bot.Name, details)
		}
		rows = append(rows, []string{bot.Name, status, details})
	}
	return rows, nil
}

func regenerateBotToken(es entityStore, g tokenGenerator, bot botEntity, expiry tokenExpiry, now time.Time) (string, string) {
	if bot.BotUser == nil {
		return "SKIPPED", "No bot user associated"
	}
	user, err := es.userByName(bot.BotUser.FullyQualifiedName)
	if err != nil {
		return "FAILED", err.Error()
	}
	if user == nil {
		return "FAILED", "user instance for " + bot.BotUser.FullyQualifiedName + " not found"
	}
	if user.AuthenticationMechanism == nil || user.AuthenticationMechanism.AuthType != "JWT" {
		return "SKIPPED", "Not using JWT authentication"
	}
	mechanism, err := g.generateJWTToken(user, expiry, now)
	if err != nil {
		return "FAILED", err.Error()
	}
	user.setJWT(mechanism)
	user.Version, user.UpdatedAt, user.UpdatedBy = nextVersion(user.Version), now.UnixMilli(), adminUserName
	if err := es.updateUser(user); err != nil {
		return "FAILED", err.Error()
	}
	return "SUCCESS", "Token regenerated"
}
