// Package retry paces the bounded retries of optimistic writes that lost a
// race (a version that moved, a transaction conflict).
package retry

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff waits before retry attempt+1: a growing while (5 ms doubling, at
// most 160 ms) with full jitter, so racing writers spread out.
func Backoff(ctx context.Context, attempt int) error {
	d := time.Duration(5<<min(attempt, 5)) * time.Millisecond
	select {
	case <-time.After(d/2 + rand.N(d)):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
