package runner

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"
)

// TestQueueEventSource runs the runner with moto: messages sent to the
// template's queue reach the function in batches, successes are deleted and
// the reported failure goes to the dead-letter queue.
func TestQueueEventSource(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	moto := motoServer(t)
	ctx := context.Background()
	r, err := Start(ctx, Config{
		Root:            t.TempDir(),
		Template:        "../testdata/template.yaml",
		Addr:            "127.0.0.1:0",
		EmulatorAddr:    freeAddr(t),
		EmulatorCommand: moto,
		Build:           echoBuild,
		Logger:          slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	main, dlq := r.queueURLs["contacts-local-ingest"], r.queueURLs["contacts-local-ingest-dlq"]
	for _, body := range []string{"ok-1", "fail", "ok-2"} {
		if err := r.emulator.sqs(ctx, "SendMessage", map[string]any{"QueueUrl": main, "MessageBody": body}, nil); err != nil {
			t.Fatal(err)
		}
	}
	count := func(url string) (visible, inFlight string) {
		var out struct{ Attributes map[string]string }
		if err := r.emulator.sqs(ctx, "GetQueueAttributes", map[string]any{"QueueUrl": url,
			"AttributeNames": []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}}, &out); err != nil {
			t.Fatal(err)
		}
		return out.Attributes["ApproximateNumberOfMessages"], out.Attributes["ApproximateNumberOfMessagesNotVisible"]
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mv, mf := count(main)
		dv, _ := count(dlq)
		if mv == "0" && mf == "0" && dv == "1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20s: main queue %s visible %s in flight, dlq %s; want 0, 0, 1", mv, mf, dv)
		}
		time.Sleep(250 * time.Millisecond)
	}
	var got struct{ Messages []struct{ Body string } }
	if err := r.emulator.sqs(ctx, "ReceiveMessage", map[string]any{"QueueUrl": dlq}, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Messages) != 1 || got.Messages[0].Body != "fail" {
		t.Errorf("dlq = %+v, want the failed message", got.Messages)
	}
}
