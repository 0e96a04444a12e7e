package snsverify

import (
	"fmt"
	"net/url"
	"regexp"
)

// snsHost is an SNS endpoint in some region, in the commercial/GovCloud
// partitions (amazonaws.com) or China (amazonaws.com.cn), and nothing else:
// anchored at both ends, lower case, no port, no user info.
var snsHost = regexp.MustCompile(`^sns\.[a-z]{2}(-[a-z]+)+-[0-9]{1,2}\.amazonaws\.com(\.cn)?$`)

// certPath is the path of an SNS signing certificate, e.g.
// /SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem: one path
// segment, no dots but the extension, nothing percent-encoded.
var certPath = regexp.MustCompile(`^/SimpleNotificationService[A-Za-z0-9_-]*\.pem$`)

// CheckCertURL reports whether raw may be fetched as a signing certificate:
// https, an SNS host (see snsHost), a certificate path, no query or fragment.
func CheckCertURL(raw string) error {
	u, err := checkSNSURL(raw)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCertificateURL, err)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || !certPath.MatchString(u.Path) {
		return fmt.Errorf("%w: path is not /SimpleNotificationService…pem", ErrCertificateURL)
	}
	return nil
}

// CheckSubscribeURL reports whether raw may be fetched to confirm a
// subscription to topicArn: https, an SNS host, Action=ConfirmSubscription
// and the same topic.
func CheckSubscribeURL(raw, topicArn string) error {
	u, err := checkSNSURL(raw)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSubscribeURL, err)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("%w: not a ConfirmSubscription request", ErrSubscribeURL)
	}
	if q.Get("Action") != "ConfirmSubscription" || q.Get("TopicArn") != topicArn {
		return fmt.Errorf("%w: not a ConfirmSubscription request for the message's topic", ErrSubscribeURL)
	}
	return nil
}

// checkSNSURL parses raw and checks the scheme and host shared by both URLs.
func checkSNSURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("not a URL")
	case u.Scheme != "https":
		return nil, fmt.Errorf("scheme is not https")
	case u.Opaque != "" || u.User != nil:
		return nil, fmt.Errorf("has user info or is opaque")
	case u.Host != u.Hostname():
		return nil, fmt.Errorf("has a port")
	case !snsHost.MatchString(u.Host):
		return nil, fmt.Errorf("host is not sns.<region>.amazonaws.com")
	case u.RawPath != "":
		return nil, fmt.Errorf("path is percent-encoded")
	}
	return u, nil
}
