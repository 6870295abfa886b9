package main

import (
	"fmt"
	"os"
	"time"
)

// Log lines in the layout of OpenMetadata's console appender ("%level [%d{ISO8601,UTC}] [%t]
// %logger{5} - %msg%n", conf/openmetadata.yaml @ a1526da34fbb4976eea2493dcbcfbe5a44c5833c), on
// standard error, with "om-standin" as the logger so nobody takes them for the server's.
var debugEnabled = os.Getenv("OM_STANDIN_DEBUG") == "true"

func logf(level, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s [%s] [main] om-standin - %s\n", level,
		time.Now().UTC().Format("2006-01-02 15:04:05.000"), fmt.Sprintf(format, args...))
}

func logInfo(format string, args ...any)  { logf("INFO", format, args...) }
func logWarn(format string, args ...any)  { logf("WARN", format, args...) }
func logError(format string, args ...any) { logf("ERROR", format, args...) }
func logDebug(format string, args ...any) {
	if debugEnabled {
		logf("DEBUG", format, args...)
	}
}
