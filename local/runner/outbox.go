package runner

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"time"
)

// OutboxPath is where the runner lists the emails the emulator's SES
// accepted, so a developer can read a password reset link locally.
const OutboxPath = "/_local/outbox"

// OutboxEmail is one email sent through the local SES.
type OutboxEmail struct {
	ID      string   `json:"id"`
	From    string   `json:"from"`
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Text    string   `json:"text"`
	Link    string   `json:"link,omitempty"` // the first link in the text
}

var firstLink = regexp.MustCompile(`https?://[^\s"<>]+`)

// serveOutbox answers GET /_local/outbox from the emulator's record of the
// emails it accepted (local/emulator.py serves it), oldest first.
func (g *Gateway) serveOutbox(w http.ResponseWriter, r *http.Request) int {
	if g.emulatorURL == "" {
		return writeMessage(w, http.StatusNotFound, "Not Found")
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(g.emulatorURL + OutboxPath)
	if err != nil {
		return writeMessage(w, http.StatusBadGateway, "the emulator does not answer")
	}
	defer resp.Body.Close()
	var emails []OutboxEmail
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&emails); err != nil || resp.StatusCode != http.StatusOK {
		return writeMessage(w, http.StatusBadGateway, "the emulator has no outbox (is it local/emulator.py?)")
	}
	for i := range emails {
		emails[i].Link = firstLink.FindString(emails[i].Text)
	}
	if emails == nil {
		emails = []OutboxEmail{}
	}
	body, _ := json.Marshal(emails)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return http.StatusOK
}
