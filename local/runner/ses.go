package runner

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// VerifyIdentities verifies the template's SES identities (domains or
// addresses of AWS::SES::EmailIdentity) in the emulator, which refuses to
// send from an unverified address as SES does. moto treats a verified
// domain as verifying every address in it.
func (e *Emulator) VerifyIdentities(ctx context.Context, identities []string) error {
	for _, id := range identities {
		form := url.Values{"Action": {"VerifyEmailIdentity"}, "Version": {"2010-12-01"}, "EmailAddress": {id}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url()+"/", strings.NewReader(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20240101/"+localRegion+"/ses/aws4_request, SignedHeaders=host, Signature=local")
		resp, err := e.httpClient().Do(req)
		if err != nil {
			return fmt.Errorf("ses VerifyEmailIdentity: %w", err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("ses VerifyEmailIdentity %s: %d %s", id, resp.StatusCode, body)
		}
		e.Log.Info("email identity verified", "identity", id)
	}
	return nil
}
