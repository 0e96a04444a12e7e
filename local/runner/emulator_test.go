package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

// TestEmulatorPersistenceConcurrentWrites restarts the emulator after
// concurrent writes of large items: every item comes back, with moto's own
// server and with local/emulator.py. (moto's recorder alone interleaves
// lines: measured 72 of 80 items back without the launcher's lock.)
func TestEmulatorPersistenceConcurrentWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto twice")
	}
	cmd := motoServer(t)
	t.Run("moto server", func(t *testing.T) { testConcurrentPersistence(t, cmd, "") })
	if w := existing("../emulator.py"); w != "" {
		t.Run("emulator.py", func(t *testing.T) { testConcurrentPersistence(t, cmd, w) })
	}
}

func testConcurrentPersistence(t *testing.T, cmd, wrapper string) {
	tmpl := loadTestTemplate(t)
	dir := t.TempDir()
	ctx := context.Background()
	newEmu := func() *Emulator {
		return &Emulator{Addr: freeAddr(t), Command: cmd, Wrapper: wrapper, DataDir: dir, Persist: true,
			Log: slog.New(slog.DiscardHandler)}
	}
	e := newEmu()
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.CreateTables(ctx, tmpl.Tables); err != nil {
		e.Stop()
		t.Fatal(err)
	}
	const writers, perWriter = 8, 10
	big := strings.Repeat("x", 30000)
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				errs <- e.dynamo(ctx, "PutItem", map[string]any{"TableName": "contacts-local", "Item": map[string]any{
					"PK": map[string]string{"S": fmt.Sprintf("w%d", w)}, "SK": map[string]string{"S": fmt.Sprintf("i%d", i)},
					"v": map[string]string{"S": big}}}, nil)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			e.Stop()
			t.Fatal(err)
		}
	}
	e.Stop()
	rec, err := os.ReadFile(filepath.Join(dir, RecordingFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(rec), "\n"), "\n")
	bad := 0
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("recording: %d of %d lines unreadable", bad, len(lines))
	}

	e2 := newEmu()
	if err := e2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer e2.Stop()
	count := 0
	var start any
	for range 100 { // pages of at most 1 MB
		in := map[string]any{"TableName": "contacts-local", "Select": "COUNT"}
		if start != nil {
			in["ExclusiveStartKey"] = start
		}
		var out struct {
			Count            int
			LastEvaluatedKey any
		}
		if err := e2.dynamo(ctx, "Scan", in, &out); err != nil {
			t.Fatal(err)
		}
		count += out.Count
		if start = out.LastEvaluatedKey; start == nil {
			break
		}
	}
	if count != writers*perWriter {
		t.Errorf("after restart %d items, want %d", count, writers*perWriter)
	}
}
