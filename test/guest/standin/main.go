// A stand-in for the PMM 3 server image, for booting cnvm's real PMM recipe in a test guest without a registry.
// One static binary, chosen by the name it is run as (like busybox), because the recipe runs three commands in the
// container: the server itself (the image's entrypoint), `curl -sf http://127.0.0.1:8080/v1/server/readyz` (the
// health checks) and `grafana cli … admin reset-admin-password --password-from-stdin` (the password unit).
//
// Like PMM 3 it runs as uid 1000 / gid 0, keeps its data in /srv, serves HTTPS on 8443 (and HTTP on 8080), and
// answers GET /v1/server/readyz with 200 once started. The admin password is kept as salted SHA-256 records under
// /srv/standin, one per time it was set, so a test can check what was set and how often. With
// CNVM_STANDIN_NEVER_READY=1 in its environment (the image of test version C) readyz never turns 200.
package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	stateDir     = "/srv/standin"
	markerFile   = stateDir + "/created"
	passwordFile = stateDir + "/admin-password.jsonl"
)

type passwordRecord struct {
	Salt   string `json:"salt"`
	SHA256 string `json:"sha256"`
	At     string `json:"at"`
}

func main() {
	switch filepath.Base(os.Args[0]) {
	case "curl":
		os.Exit(curl(os.Args[1:]))
	case "grafana":
		os.Exit(grafana(os.Args[1:], os.Stdin))
	default:
		os.Exit(serve())
	}
}

func hashPassword(salt []byte, password string) string {
	sum := sha256.Sum256(append(append([]byte{}, salt...), password...))
	return hex.EncodeToString(sum[:])
}

// grafana accepts only the invocation PMM's change-admin-password uses, so a recipe that drifts from it fails here
// as it would on the real image.
func grafana(args []string, stdin io.Reader) int {
	var rest []string
	for _, a := range args {
		if strings.HasPrefix(a, "--config=") || strings.HasPrefix(a, "--homepath") || a == "/usr/share/grafana" {
			continue
		}
		rest = append(rest, a)
	}
	if len(rest) < 3 || rest[0] != "cli" || rest[1] != "admin" || rest[2] != "reset-admin-password" {
		fmt.Fprintf(os.Stderr, "grafana stand-in: unsupported command %q\n", args)
		return 2
	}
	var password string
	switch {
	case len(rest) == 4 && rest[3] == "--password-from-stdin":
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintln(os.Stderr, "grafana stand-in: reading stdin:", err)
			return 1
		}
		password = strings.TrimRight(line, "\r\n")
	case len(rest) == 4:
		password = rest[3]
	default:
		fmt.Fprintf(os.Stderr, "grafana stand-in: expected one password, got %q\n", rest[3:])
		return 2
	}
	if password == "" {
		fmt.Fprintln(os.Stderr, "grafana stand-in: empty password")
		return 1
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	rec, _ := json.Marshal(passwordRecord{Salt: hex.EncodeToString(salt), SHA256: hashPassword(salt, password), At: time.Now().UTC().Format(time.RFC3339)})
	f, err := os.OpenFile(passwordFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "grafana stand-in:", err)
		return 1
	}
	defer f.Close()
	if _, err := f.Write(append(rec, '\n')); err != nil {
		fmt.Fprintln(os.Stderr, "grafana stand-in:", err)
		return 1
	}
	fmt.Println("Admin password changed successfully ✔")
	return 0
}

// curl implements the `curl -sf URL` the recipe's health checks run: exit 0 on 2xx, 22 on an HTTP error (as -f
// does), 7 when nothing answers.
func curl(args []string) int {
	var url string
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			url = a
		}
	}
	if url == "" {
		fmt.Fprintln(os.Stderr, "curl stand-in: no URL")
		return 2
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Get(url)
	if err != nil {
		return 7
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		return 22
	}
	_, _ = io.Copy(os.Stdout, resp.Body)
	return 0
}

func readRecords() ([]passwordRecord, error) {
	data, err := os.ReadFile(passwordFile)
	if errors.Is(err, os.ErrNotExist) {
		return []passwordRecord{}, nil
	}
	if err != nil {
		return nil, err
	}
	records := []passwordRecord{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r passwordRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, err
		}
		records = append(records, r)
	}
	return records, nil
}

// passwordMatches checks against the newest record; before any, PMM's factory password "admin" holds.
func passwordMatches(password string) bool {
	records, err := readRecords()
	if err != nil {
		return false
	}
	if len(records) == 0 {
		return password == "admin"
	}
	last := records[len(records)-1]
	salt, err := hex.DecodeString(last.Salt)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(hashPassword(salt, password)), []byte(last.SHA256)) == 1
}

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "pmm-server-standin"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func serve() int {
	log := func(format string, a ...any) { fmt.Printf("pmm-standin: "+format+"\n", a...) }
	log("uid=%d gid=%d", os.Getuid(), os.Getgid())
	if err := os.MkdirAll(stateDir, 0o750); err != nil {
		log("cannot use /srv: %v", err)
		return 1
	}
	// The marker is written once, on a fresh /srv: a test compares it across VMs to see the data survived.
	if _, err := os.Stat(markerFile); errors.Is(err, os.ErrNotExist) {
		id := make([]byte, 16)
		_, _ = rand.Read(id)
		content := fmt.Sprintf("%s %s\n", hex.EncodeToString(id), time.Now().UTC().Format(time.RFC3339))
		if err := os.WriteFile(markerFile, []byte(content), 0o640); err != nil {
			log("cannot write %s: %v", markerFile, err)
			return 1
		}
		log("new data directory, marker %s", strings.TrimSpace(content))
	}
	neverReady := os.Getenv("CNVM_STANDIN_NEVER_READY") == "1"
	var ready atomic.Bool

	mux := http.NewServeMux()
	mux.HandleFunc("/v1/server/readyz", func(w http.ResponseWriter, r *http.Request) {
		if !ready.Load() {
			http.Error(w, `{"error":"not ready"}`, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}\n")
	})
	// Like PMM's API behind Grafana's basic auth: 200 for admin with the current password, 401 otherwise.
	mux.HandleFunc("/v1/server/version", func(w http.ResponseWriter, r *http.Request) {
		user, password, ok := r.BasicAuth()
		if !ok || user != "admin" || !passwordMatches(password) {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"version":"3-standin"}`+"\n")
	})
	// What a test checks from outside: the data marker and how often (and to what hash) the password was set.
	mux.HandleFunc("/v1/standin/state", func(w http.ResponseWriter, r *http.Request) {
		marker, err := os.ReadFile(markerFile)
		records, err2 := readRecords()
		if err != nil || err2 != nil {
			http.Error(w, fmt.Sprint(err, err2), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"marker": strings.TrimSpace(string(marker)), "passwordRecords": records, "uid": os.Getuid(), "gid": os.Getgid()})
	})

	cert, err := selfSigned()
	if err != nil {
		log("certificate: %v", err)
		return 1
	}
	errs := make(chan error, 2)
	go func() {
		srv := &http.Server{Addr: ":8443", Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
		errs <- srv.ListenAndServeTLS("", "")
	}()
	go func() { errs <- (&http.Server{Addr: ":8080", Handler: mux}).ListenAndServe() }()
	if neverReady {
		log("CNVM_STANDIN_NEVER_READY=1: readyz stays 503")
	} else {
		// PMM needs a while before it is ready; a short delay keeps the health gate's "not yet" path exercised.
		go func() {
			time.Sleep(3 * time.Second)
			ready.Store(true)
			log("ready")
		}()
	}
	// As PID 1 in the container, signals without a handler are ignored: handle SIGTERM so `podman stop` is quick.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case s := <-sig:
		log("stopping on %v", s)
		return 0
	case err := <-errs:
		log("server: %v", err)
		return 1
	}
}
