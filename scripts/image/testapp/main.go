// oidc-sso-testapp: a tiny HTTP server for the end-to-end tests on the real node. It serves what
// its own process really sees, so a test can check what a rollout delivered to a pod:
//
//	GET /healthz            "ok"
//	GET /env                the process environment as a JSON object
//	GET /file?path=P        the content of file P, only below -files-root (relative or absolute P)
//	GET /id                 uid, gid, pid and hostname as JSON
//
// Flags (or environment): -addr (TESTAPP_ADDR, default 127.0.0.1:$PORT, PORT default 8080),
// -files-root (TESTAPP_FILES_ROOT; /file answers 404 when empty). Exits 0 on SIGTERM/SIGINT,
// also as PID 1 (where signals without a handler are ignored).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

var version = "dev"

func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// within reports whether path p lies in (or is) dir; both are cleaned absolute paths.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

func main() {
	addr := flag.String("addr", envOr("TESTAPP_ADDR", "127.0.0.1:"+envOr("PORT", "8080")), "listen address")
	root := flag.String("files-root", os.Getenv("TESTAPP_FILES_ROOT"), "directory /file may read from (empty: none)")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("oidc-sso-testapp", version)
		return
	}
	log.SetFlags(log.LstdFlags | log.LUTC)

	// Resolved once: a Secret volume's files are symlinks into a timestamped folder below it.
	var rootDir string
	if *root != "" {
		abs, err := filepath.Abs(*root)
		if err == nil {
			abs, err = filepath.EvalSymlinks(abs)
		}
		if err != nil {
			log.Printf("files root %q: %v (serving /file anyway; it resolves per request)", *root, err)
			abs = filepath.Clean(*root)
		}
		rootDir = abs
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /env", func(w http.ResponseWriter, _ *http.Request) {
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		writeJSON(w, env)
	})
	mux.HandleFunc("GET /id", func(w http.ResponseWriter, _ *http.Request) {
		host, _ := os.Hostname()
		writeJSON(w, map[string]any{
			"uid": os.Getuid(), "gid": os.Getgid(), "groups": groups(), "pid": os.Getpid(),
			"hostname": host, "version": version,
		})
	})
	mux.HandleFunc("GET /file", func(w http.ResponseWriter, r *http.Request) {
		if rootDir == "" {
			http.Error(w, "no -files-root configured", http.StatusNotFound)
			return
		}
		p := r.URL.Query().Get("path")
		if p == "" {
			http.Error(w, "missing ?path=", http.StatusBadRequest)
			return
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(rootDir, p)
		}
		// Resolve symlinks first, then check the real path is still below the root.
		real, err := filepath.EvalSymlinks(filepath.Clean(p))
		if err != nil {
			status := http.StatusInternalServerError
			if errors.Is(err, fs.ErrNotExist) {
				status = http.StatusNotFound
			}
			http.Error(w, err.Error(), status)
			return
		}
		if !within(real, rootDir) {
			http.Error(w, "path outside -files-root", http.StatusForbidden)
			return
		}
		data, err := os.ReadFile(real)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(data)
	})

	logged := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.Printf("%s %s", r.Method, r.URL.RequestURI())
		mux.ServeHTTP(w, r)
	})
	srv := &http.Server{Addr: *addr, Handler: logged, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Printf("oidc-sso-testapp %s listening on %s (files root %q, uid %d)", version, *addr, rootDir, os.Getuid())
	select {
	case err := <-errc:
		log.Fatalf("serve: %v", err)
	case <-ctx.Done():
		log.Printf("signal received, shutting down")
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}
}

func groups() []int {
	g, err := os.Getgroups()
	if err != nil || g == nil {
		return []int{}
	}
	return g
}
