// Package storetest gives tests a fresh PostgreSQL database on the local
// server, or skips them when there is none.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultServer is the server tests use unless PATCHLOOP_TEST_POSTGRES
// names another (the URL of any database on it).
const DefaultServer = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Postgres creates a database named patchloop_test_<random> on the test
// server, drops it when the test ends, and returns its URL. The test is
// skipped when the server cannot be reached.
func Postgres(t testing.TB) string {
	t.Helper()
	server := os.Getenv("PATCHLOOP_TEST_POSTGRES")
	if server == "" {
		server = DefaultServer
	}
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("storetest: server URL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Skipf("PostgreSQL at %s is not reachable: %v", u.Host, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "patchloop_test_" + hex.EncodeToString(b[:])
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
	_ = conn.Close(ctx)
	if err != nil {
		t.Fatalf("storetest: create database: %v", err)
	}
	t.Cleanup(func() { drop(t, server, name) })
	u.Path = "/" + name
	return u.String()
}

// drop drops a test database, disconnecting whoever still uses it.
func drop(t testing.TB, server, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Errorf("storetest: drop database %s: %v", name, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Errorf("storetest: drop database %s: %v", name, err)
	}
}
