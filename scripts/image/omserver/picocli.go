package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// renderASCIITable is AsciiTable(columns, rows, printHeader = true, nullText = "", emptyText)
// .render(), what OpenMetadataOperations.printToAsciiTable logs.
//
// OpenMetadata openmetadata-service/src/main/java/org/openmetadata/service/util/AsciiTable.java
// @ 3d3405ea7d1b5e99833ee3a051bae8bad11c8dc8: each column as wide as its widest cell or header;
// a ruler "+-" + dashes + "-+" per column; header and rows as "| cell |"; a missing cell is "-";
// no rows: one line "| " + emptyText padded or cut to the ruler's length (newline included)
// minus 5 + " |"; the ruler again at the end.
func renderASCIITable(columns []string, rows [][]string, emptyText string) string {
	widths := make([]int, len(columns))
	for i, c := range columns {
		widths[i] = len(c)
	}
	cell := func(row []string, i int) string {
		if i < len(row) {
			return row[i]
		}
		return "-"
	}
	for _, row := range rows {
		for i := range row {
			if i < len(widths) && len(row[i]) > widths[i] {
				widths[i] = len(row[i])
			}
		}
	}
	pad := func(s string, n int, c byte) string {
		if len(s) > n {
			return s[:n]
		}
		return s + strings.Repeat(string(c), n-len(s))
	}
	var ruler strings.Builder
	ruler.WriteString("+")
	for _, w := range widths {
		ruler.WriteString("-" + pad("", w, '-') + "-+")
	}
	ruler.WriteString("\n")
	line := func(values func(i int) string) string {
		var b strings.Builder
		b.WriteString("|")
		for i, w := range widths {
			b.WriteString(" " + pad(values(i), w, ' ') + " |")
		}
		b.WriteString("\n")
		return b.String()
	}
	var out strings.Builder
	out.WriteString(ruler.String())
	out.WriteString(line(func(i int) string { return columns[i] }))
	out.WriteString(ruler.String())
	if len(rows) == 0 {
		n := ruler.Len() - min(ruler.Len(), 5)
		out.WriteString("| " + pad(emptyText, n, ' ') + " |\n")
	}
	for _, row := range rows {
		out.WriteString(line(func(i int) string { return cell(row, i) }))
	}
	out.WriteString(ruler.String())
	return out.String()
}

// opsCommandName is the top command's name, @Command(name = "OpenMetadataSetup") on
// OpenMetadataOperations (.../util/OpenMetadataOperations.java, every stored version).
const opsCommandName = "OpenMetadataSetup"

// subcommandsBeforeRegenerate are the subcommands picocli offers suggestions from in a release
// without regenerate-bot-tokens: those of the first stored OpenMetadataOperations that has it
// (Jason-Clark-FG/OpenMetadata-Mirror @ 0fc4e436cc4862b4d3cca2060865eee15ee0dcc5, every @Command
// method), less regenerate-bot-tokens. Older releases have fewer of them, so the "Did you mean"
// line of a real older image may name others; its first line and status are exact.
var subcommandsBeforeRegenerate = []string{
	"info", "validate", "repair", "setOpenMetadataUrl", "configureEmailSettings", "get-security-config",
	"update-security-config", "install-app", "delete-app", "create-user", "check-connection",
	"drop-create", "reset-password", "migrate", "recover", "changelog", "dbServiceCleanup",
	"relationshipCleanup", "tagUsageCleanup", "reindex", "reembed", "syncAlertOffset", "reindexdi",
	"reindex-rdf", "deploy-pipelines", "migrate-secrets", "drop-indexes", "create-indexes",
	"remove-security-config", "analyze-tables", "cleanup-flowable-history",
}

// picocliUnmatched is what `openmetadata-ops.sh` prints, and its status, for a word that is no
// subcommand of the release: picocli's UnmatchedArgumentException through the default parameter
// exception handler of CommandLine.execute.
//
// picocli src/main/java/picocli/CommandLine.java @ v4.7.6 (368d97e4f60ab2d546199a92611a22abf337b091;
// OpenMetadata's pom.xml pins picocli 4.7.6): the top command has no positional parameters, so
// the word and every later argument that is not one of its options are unmatched
// (handleUnmatchedArgument); the message is "Unmatched argument at index N: 'word'" (several:
// "Unmatched arguments from index N: 'a', 'b'"), N counting from the first argument picocli gets,
// and openmetadata-ops.sh passes `-c <config>` before the user's arguments
// (bootstrap/openmetadata-ops.sh @ 3275923d93d85bd9a0220e9cc5bcb2107c155c67), so N is 2 + the
// word's position; internalHandleParseException prints the message on standard error, then
// "Did you mean: OpenMetadataSetup a or OpenMetadataSetup b or OpenMetadataSetup c?" (the three
// subcommands most similar by CosineSimilarity, prefixed with the command's name) or, without
// suggestions, the usage; the status is exitCodeOnInvalidInput, ExitCode.USAGE = 2.
// OpenMetadataOperations.main exits with it. Checked by running picocli 4.7.6 (Maven Central) on a
// command of that name with these subcommands and OpenMetadataOperations' -c and -d options:
// `-c x regenerate-bot-tokens` printed "Unmatched argument at index 2: 'regenerate-bot-tokens'" and
// "Did you mean: OpenMetadataSetup create-user or OpenMetadataSetup migrate-secrets or
// OpenMetadataSetup migrate?" on standard error and exited with 2, as this does.
func picocliUnmatched(w io.Writer, index int, unmatched, subcommands []string) int {
	quoted := make([]string, len(unmatched))
	for i, u := range unmatched {
		quoted[i] = "'" + u + "'"
	}
	what := "Unmatched argument at"
	if len(unmatched) > 1 {
		what = "Unmatched arguments from"
	}
	fmt.Fprintf(w, "%s index %d: %s\n", what, index, strings.Join(quoted, ", "))
	suggestions := mostSimilar(unmatched[0], subcommands)
	if len(suggestions) > 3 {
		suggestions = suggestions[:3]
	}
	// Without suggestions picocli prints the usage help instead; the one word the stand-in gates
	// always has suggestions, so that is not emulated.
	if len(suggestions) > 0 {
		for i, s := range suggestions {
			suggestions[i] = opsCommandName + " " + s
		}
		fmt.Fprintf(w, "Did you mean: %s?\n", strings.Join(suggestions, " or "))
	}
	return 2
}

// mostSimilar is picocli's CosineSimilarity.mostSimilar(pattern, candidates, 0): bigram counts
// of the lower-cased strings, cosine of the two count vectors, candidates scoring above 0 in a
// TreeMap keyed by score (a later candidate of equal score replaces an earlier one), highest first.
func mostSimilar(pattern string, candidates []string) []string {
	grams := func(s string) map[string]int {
		m := map[string]int{}
		for i := 0; i+2 <= len(s); i++ {
			m[s[i:i+2]]++
		}
		return m
	}
	dot := func(a, b map[string]int) float64 {
		r := 0.0
		for k, v := range a {
			r += float64(v * b[k])
		}
		return r
	}
	p := grams(strings.ToLower(pattern))
	byScore := map[float64]string{}
	for _, c := range candidates {
		q := grams(strings.ToLower(c))
		score := dot(p, q) / math.Sqrt(dot(p, p)*dot(q, q))
		if score > 0 {
			byScore[score] = c
		}
	}
	scores := make([]float64, 0, len(byScore))
	for s := range byScore {
		scores = append(scores, s)
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(scores)))
	out := make([]string, len(scores))
	for i, s := range scores {
		out[i] = byScore[s]
	}
	return out
}

// The first release that ships `openmetadata-ops.sh regenerate-bot-tokens`.
//
// OpenMetadata PR #26477 "Add regenerate-bot-tokens operation for JWT key rotation" was merged
// into main on 2026-03-16. The 1.13.0 release notes (open-metadata/docs-om
// snippets/releases/1.13.0.mdx @ a845d4e3b260214c907e5878ec8042bc59896b37, "8th June 2026",
// changelog 1.12.10-release...1.13.0-release) list "Regenerate-bot-tokens for JWT key rotation"
// under What's New; the notes of 1.12.3 to 1.12.9 and 1.12.11 (same repository) do not mention it.
// So 1.13.0, and every later release (2.0.x and 2.1 descend from main after it).
var firstRegenerateRelease = release{1, 13, 0}

func hasRegenerateBotTokens(r release) bool {
	return compareRelease(r, firstRegenerateRelease) >= 0
}
