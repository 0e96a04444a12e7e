package runner

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// motoServer finds moto_server: $MOTO_SERVER, else the repo's pinned venv.
func motoServer(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("MOTO_SERVER"), "../../.local/venv/bin/moto_server"} {
		if p == "" {
			continue
		}
		if abs, err := filepath.Abs(p); err == nil {
			if _, err := os.Stat(abs); err == nil {
				return abs
			}
		}
	}
	t.Skip("moto_server not found: run `make venv` or set MOTO_SERVER")
	return ""
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestEmulatorPersistence writes an item, restarts the emulator and reads it
// back: the table, its TTL setting and the item survive through the replayed
// recording.
func TestEmulatorPersistence(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto twice")
	}
	cmd := motoServer(t)
	tmpl := loadTestTemplate(t)
	dir := t.TempDir()
	ctx := context.Background()
	newEmu := func() *Emulator {
		return &Emulator{Addr: freeAddr(t), Command: cmd, DataDir: dir, Persist: true, Log: slog.New(slog.DiscardHandler)}
	}

	e := newEmu()
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.CreateTables(ctx, tmpl.Tables); err != nil {
		e.Stop()
		t.Fatal(err)
	}
	item := map[string]any{"TableName": "contacts-local", "Item": map[string]any{
		"PK": map[string]string{"S": "S#demo#C#1"}, "SK": map[string]string{"S": "PROFILE"}, "n": map[string]string{"N": "1"}}}
	if err := e.dynamo(ctx, "PutItem", item, nil); err != nil {
		e.Stop()
		t.Fatal(err)
	}
	update := map[string]any{"TableName": "contacts-local",
		"Key":                       map[string]any{"PK": map[string]string{"S": "S#demo#C#1"}, "SK": map[string]string{"S": "PROFILE"}},
		"UpdateExpression":          "SET n = n + :one",
		"ExpressionAttributeValues": map[string]any{":one": map[string]string{"N": "1"}}}
	if err := e.dynamo(ctx, "UpdateItem", update, nil); err != nil {
		e.Stop()
		t.Fatal(err)
	}
	e.Stop()

	e2 := newEmu()
	if err := e2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer e2.Stop()
	if err := e2.CreateTables(ctx, tmpl.Tables); err != nil { // finds the replayed table
		t.Fatal(err)
	}
	var got struct {
		Item map[string]map[string]string
	}
	key := map[string]any{"TableName": "contacts-local",
		"Key": map[string]any{"PK": map[string]string{"S": "S#demo#C#1"}, "SK": map[string]string{"S": "PROFILE"}}}
	if err := e2.dynamo(ctx, "GetItem", key, &got); err != nil {
		t.Fatal(err)
	}
	if got.Item["n"]["N"] != "2" {
		t.Errorf("after restart item = %v, want n=2 (put then update replayed once each)", got.Item)
	}
	var ttl struct {
		TimeToLiveDescription struct{ TimeToLiveStatus, AttributeName string }
	}
	if err := e2.dynamo(ctx, "DescribeTimeToLive", map[string]any{"TableName": "contacts-local"}, &ttl); err != nil {
		t.Fatal(err)
	}
	if ttl.TimeToLiveDescription.TimeToLiveStatus != "ENABLED" || ttl.TimeToLiveDescription.AttributeName != "expiresAt" {
		t.Errorf("ttl = %+v", ttl)
	}
	var desc struct {
		Table struct {
			GlobalSecondaryIndexes []struct{ IndexName string }
		}
	}
	if err := e2.dynamo(ctx, "DescribeTable", map[string]any{"TableName": "contacts-local"}, &desc); err != nil {
		t.Fatal(err)
	}
	if len(desc.Table.GlobalSecondaryIndexes) != 1 {
		t.Errorf("gsis = %+v", desc.Table.GlobalSecondaryIndexes)
	}
}
