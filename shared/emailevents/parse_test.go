package emailevents_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/creator-platform/contacts/shared/emailevents"
)

// fixtureDir is ../shared/data/ses beside the repository.
func fixtureDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "data", "ses")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("SES fixtures not found at %s: %v", dir, err)
	}
	return dir
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseEveryFixture(t *testing.T) {
	tests := []struct {
		file        string
		typ         string
		recipients  []string
		permanent   bool
		unsubscribe string
		at          string
		detail      map[string]string
	}{
		{"event-send.json", emailevents.TypeSent, []string{"ada.lovelace@example.com"}, false, "", "2026-11-20T14:59:38.237Z", map[string]string{"campaign": "cmp-spring-launch", "campaignKind": "broadcast"}},
		{"event-delivery.json", emailevents.TypeDelivered, nil, false, "", "", nil},
		{"event-open.json", emailevents.TypeOpened, []string{"ada.lovelace@example.com"}, false, "", "2026-11-20T15:10:02Z", map[string]string{"campaignKind": "sequence"}},
		{"event-click.json", emailevents.TypeClicked, []string{"ada.lovelace@example.com"}, false, "", "2026-11-20T15:11:45.57Z", map[string]string{"link": "https://creator.example.com/courses/week-3?utm_source=email"}},
		{"event-bounce-permanent.json", emailevents.TypeBounced, []string{"bounce@simulator.amazonses.com"}, true, "", "2026-11-20T14:59:40.669Z", map[string]string{"bounceType": "Permanent"}},
		{"event-bounce-transient.json", emailevents.TypeBounced, nil, false, "", "", map[string]string{"bounceType": "Transient"}},
		{"event-complaint.json", emailevents.TypeComplained, []string{"complaint@simulator.amazonses.com"}, false, emailevents.ReasonMarkedSpam, "2026-11-20T16:00:00Z", nil},
		{"event-subscription.json", emailevents.TypeUnsubscribed, []string{"ada.lovelace@example.com"}, false, emailevents.ReasonOptedOut, "2026-11-20T17:00:00Z", nil},
		{"event-reject.json", emailevents.TypeRejected, nil, false, "", "", map[string]string{"reason": "Bad content"}},
		{"event-delivery-delay.json", emailevents.TypeDelayed, []string{"slow@example.net"}, false, "", "2026-11-20T18:00:00Z", nil},
		{"event-rendering-failure.json", emailevents.TypeRenderingFailed, nil, false, "", "", map[string]string{"template": "weekly-lesson"}},
		{"notification-bounce-multi.json", emailevents.TypeBounced, []string{"gone1@example.org", "Gone2@Example.org"}, true, "", "2026-11-21T09:00:00Z", nil},
		{"notification-complaint-no-feedback.json", emailevents.TypeComplained, []string{"grace+newsletter@example.org"}, false, emailevents.ReasonMarkedSpam, "", nil},
		{"notification-delivery-odd-timestamp.json", emailevents.TypeDelivered, []string{"success@simulator.amazonses.com"}, false, "", "2026-11-21T11:00:01.184Z", nil},
		{"sns-envelope-bounce.json", emailevents.TypeBounced, []string{"bounce@simulator.amazonses.com"}, true, "", "2026-11-20T14:59:40.669Z", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			evs, err := emailevents.Parse(readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) == 0 {
				t.Fatal("no events")
			}
			if tt.recipients != nil && len(evs) != len(tt.recipients) {
				t.Fatalf("%d events, want one per recipient %v", len(evs), tt.recipients)
			}
			for i, e := range evs {
				if e.Type != tt.typ || e.PermanentBounce != tt.permanent || e.Unsubscribe != tt.unsubscribe || e.MessageID == "" || e.ID == "" {
					t.Errorf("event %d: %+v", i, e)
				}
				if tt.recipients != nil && e.Recipient != tt.recipients[i] {
					t.Errorf("recipient %q, want %q", e.Recipient, tt.recipients[i])
				}
				if tt.at != "" {
					want, _ := time.Parse(time.RFC3339Nano, tt.at)
					if !e.At.Equal(want) {
						t.Errorf("at %v, want %v", e.At, want)
					}
				}
				for k, v := range tt.detail {
					if e.Detail[k] != v {
						t.Errorf("detail %s = %q, want %q", k, e.Detail[k], v)
					}
				}
			}
			again, _ := emailevents.Parse(readFixture(t, tt.file))
			if again[0].ID != evs[0].ID {
				t.Error("event ids are not deterministic")
			}
		})
	}
}

func TestParseRefusesWhatIsNotSES(t *testing.T) {
	for _, body := range []string{`not json`, `{}`, `{"eventType":"Bounce"}`, `{"Type":"Notification","Message":"garbage"}`, `{"eventType":"Teleport","mail":{"messageId":"m","timestamp":"2026-01-01T00:00:00Z"}}`} {
		if _, err := emailevents.Parse([]byte(body)); err == nil {
			t.Errorf("%s parsed", body)
		}
	}
	evs, err := emailevents.Parse(readFixture(t, "sns-subscription-confirmation.json"))
	if err != nil || len(evs) != 0 {
		t.Errorf("subscription confirmation: %v %v", evs, err)
	}
}
