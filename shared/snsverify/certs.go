package snsverify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

const (
	// maxCachedCerts bounds the cache. SNS signs with one certificate per
	// region at a time, so a handful is plenty; the bound only stops a
	// flood of distinct (valid-looking) URLs from growing memory.
	maxCachedCerts = 16
	// MaxCertBytes bounds a certificate download.
	MaxCertBytes = 16 << 10
)

// certCache holds parsed certificates by URL until their NotAfter.
type certCache struct {
	fetch Fetcher
	max   int

	mu    sync.Mutex
	certs map[string]*x509.Certificate
}

func newCertCache(fetch Fetcher, max int) *certCache {
	return &certCache{fetch: fetch, max: max, certs: map[string]*x509.Certificate{}}
}

// get returns the certificate at certURL, valid at now, from the cache or
// fetched once.
func (c *certCache) get(ctx context.Context, certURL string, now time.Time) (*x509.Certificate, error) {
	c.mu.Lock()
	cert, ok := c.certs[certURL]
	if ok && !now.After(cert.NotAfter) {
		c.mu.Unlock()
		return cert, nil
	}
	delete(c.certs, certURL)
	c.mu.Unlock()

	pemBytes, err := c.fetch(ctx, certURL)
	if err != nil {
		if errors.Is(err, ErrSignature) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", ErrCertificateUnavailable, err)
	}
	cert, err = parseCert(pemBytes)
	if err != nil {
		return nil, err
	}
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return nil, fmt.Errorf("%w: certificate not valid now (valid %s to %s)", ErrSignature,
			cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.certs) >= c.max {
		c.evict(now)
	}
	c.certs[certURL] = cert
	return cert, nil
}

// evict drops expired certificates, then, if the cache is still full, the
// one that expires first.
func (c *certCache) evict(now time.Time) {
	var first string
	for u, cert := range c.certs {
		if now.After(cert.NotAfter) {
			delete(c.certs, u)
			continue
		}
		if first == "" || cert.NotAfter.Before(c.certs[first].NotAfter) {
			first = u
		}
	}
	if len(c.certs) >= c.max && first != "" {
		delete(c.certs, first)
	}
}

// parseCert reads the first PEM CERTIFICATE block.
func parseCert(pemBytes []byte) (*x509.Certificate, error) {
	for {
		var block *pem.Block
		block, pemBytes = pem.Decode(pemBytes)
		if block == nil {
			return nil, fmt.Errorf("%w: no PEM certificate at the signing certificate URL", ErrSignature)
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate does not parse: %v", ErrSignature, err)
		}
		return cert, nil
	}
}

// NewHTTPClient returns the client for talking to SNS: TLS 1.2 or later,
// bounded connect, handshake and whole-request times, and no redirects (a
// redirect would lead away from the SNS host that was checked).
func NewHTTPClient() *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:   3 * time.Second,
			ResponseHeaderTimeout: 3 * time.Second,
			MaxIdleConns:          4,
			IdleConnTimeout:       60 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// HTTPFetcher fetches certificates with client (NewHTTPClient): a GET,
// 200 only, at most MaxCertBytes. A 4xx answer wraps ErrSignature (no
// certificate there); network errors and 5xx are transient.
func HTTPFetcher(client *http.Client) Fetcher {
	return func(ctx context.Context, certURL string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, certURL, nil)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSignature, err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("fetch certificate: %w", err)
		}
		defer resp.Body.Close()
		switch {
		case resp.StatusCode >= 500:
			return nil, fmt.Errorf("fetch certificate: status %d", resp.StatusCode)
		case resp.StatusCode != http.StatusOK:
			return nil, fmt.Errorf("%w: certificate URL answered %d", ErrSignature, resp.StatusCode)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, MaxCertBytes+1))
		if err != nil {
			return nil, fmt.Errorf("fetch certificate: %w", err)
		}
		if len(body) > MaxCertBytes {
			return nil, fmt.Errorf("%w: certificate larger than %d bytes", ErrSignature, MaxCertBytes)
		}
		return body, nil
	}
}
