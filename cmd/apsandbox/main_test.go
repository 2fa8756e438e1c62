package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apsandbox/apsandbox/sandbox/journal"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestServeConfig(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantAddr   string
		wantSeed   int64
		wantVendor string
		// wantData "" means the default, ./data.
		wantData   string
		wantRetain journal.Retention
		wantErr    string
	}{
		{name: "defaults", wantAddr: ":8080", wantSeed: 1},
		{name: "flags", args: []string{"--addr", "127.0.0.1:9999", "--seed", "42", "--vendor", "http://v:9090"}, wantAddr: "127.0.0.1:9999", wantSeed: 42, wantVendor: "http://v:9090"},
		{name: "env", env: map[string]string{"APSANDBOX_ADDR": ":7000", "APSANDBOX_SEED": "7", "APSANDBOX_VENDOR": "http://e"}, wantAddr: ":7000", wantSeed: 7, wantVendor: "http://e"},
		{name: "flag beats env", args: []string{"--seed", "3"}, env: map[string]string{"APSANDBOX_SEED": "7"}, wantAddr: ":8080", wantSeed: 3},
		{name: "bad env names the variable", env: map[string]string{"APSANDBOX_SEED": "many"}, wantErr: `APSANDBOX_SEED="many"`},
		{name: "zero seed", args: []string{"--seed", "0"}, wantErr: "--seed must be positive"},
		{name: "unknown flag", args: []string{"--sed", "1"}, wantErr: "flag provided but not defined: -sed"},
		{name: "stray argument", args: []string{"extra"}, wantErr: `unexpected argument "extra"`},
		{name: "bad log level", args: []string{"--log-level", "loud"}, wantErr: "--log-level"},
		{name: "bad log format env", env: map[string]string{"APSANDBOX_LOG_FORMAT": "xml"}, wantErr: "--log-format"},
		{name: "bad shutdown timeout", args: []string{"--shutdown-timeout", "-1s"}, wantErr: "--shutdown-timeout must be positive"},
		{name: "data and retention", args: []string{"--data", ":memory:", "--retain-count", "10", "--retain-age", "1h"}, wantAddr: ":8080", wantSeed: 1,
			wantData: ":memory:", wantRetain: journal.Retention{MaxExchanges: 10, MaxAge: time.Hour}},
		{name: "data and retention from env", env: map[string]string{"APSANDBOX_DATA": "/srv/ap", "APSANDBOX_RETAIN_COUNT": "0", "APSANDBOX_RETAIN_AGE": "0s"},
			wantAddr: ":8080", wantSeed: 1, wantData: "/srv/ap", wantRetain: journal.Retention{}},
		{name: "empty data", args: []string{"--data", ""}, wantErr: "--data must name a directory"},
		{name: "negative retain count", args: []string{"--retain-count", "-1"}, wantErr: "--retain-count must not be negative"},
		{name: "negative retain age", env: map[string]string{"APSANDBOX_RETAIN_AGE": "-5m"}, wantErr: "--retain-age must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := serveConfig(tt.args, env(tt.env), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Addr != tt.wantAddr || cfg.Seed != tt.wantSeed || cfg.VendorURL != tt.wantVendor {
				t.Errorf("got addr=%q seed=%d vendor=%q, want %q %d %q", cfg.Addr, cfg.Seed, cfg.VendorURL, tt.wantAddr, tt.wantSeed, tt.wantVendor)
			}
			wantData, wantRetain := tt.wantData, tt.wantRetain
			if wantData == "" {
				wantData, wantRetain = "./data", journal.DefaultRetention
			}
			if cfg.DataDir != wantData || cfg.Retention != wantRetain {
				t.Errorf("got data=%q retention=%+v, want %q %+v", cfg.DataDir, cfg.Retention, wantData, wantRetain)
			}
		})
	}
}

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no command", nil, exitUsage},
		{"unknown command", []string{"frobnicate"}, exitUsage},
		{"version", []string{"version"}, exitOK},
		{"help", []string{"help"}, exitOK},
		{"check without vendor", []string{"check"}, exitUsage},
		{"serve bad flag", []string{"serve", "--seed", "x"}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if got := run(context.Background(), tt.args, env(nil), &out, &errb); got != tt.want {
				t.Errorf("exit %d, want %d (stderr %q)", got, tt.want, errb.String())
			}
		})
	}
}

func TestCheckCommand(t *testing.T) {
	var gotPath, gotQuery string
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotQuery = r.URL.Path, r.URL.RawQuery
		if strings.Contains(r.URL.Path, "broken") {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"task":{"error_message":"database down"}}`)
		}
	}))
	defer vendor.Close()

	var out bytes.Buffer
	if code := run(context.Background(), []string{"check", "--vendor", vendor.URL}, env(nil), &out, io.Discard); code != exitOK {
		t.Fatalf("check exit %d, output %q", code, out.String())
	}
	if gotPath != "/check" || !strings.HasPrefix(gotQuery, "ap_guid=") || !strings.Contains(gotQuery, "&reseller_id=") {
		t.Errorf("vendor saw %s?%s, want /check?ap_guid=…&reseller_id=…", gotPath, gotQuery)
	}
	if !strings.Contains(out.String(), "Your integration is ready to use.") {
		t.Errorf("output %q", out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"check", "--vendor", vendor.URL + "/broken"}, env(nil), &out, io.Discard); code != exitFailure {
		t.Errorf("failing check exit %d, want %d", code, exitFailure)
	}
	if !strings.Contains(out.String(), "database down") {
		t.Errorf("output %q does not show the vendor's message", out.String())
	}
}

func TestServeAndHealthcheck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--data", t.TempDir()}, env(nil), io.Discard, io.Discard)
	}()

	deadline := time.Now().Add(10 * time.Second)
	for {
		if code := run(context.Background(), []string{"healthcheck", "--addr", addr}, env(nil), io.Discard, io.Discard); code == exitOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("sandbox never became healthy")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("serve exited %d after graceful shutdown, want 0", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if code := run(context.Background(), []string{"healthcheck", "--addr", addr}, env(nil), io.Discard, io.Discard); code != exitFailure {
		t.Errorf("healthcheck against a stopped sandbox exit %d, want %d", code, exitFailure)
	}
}
