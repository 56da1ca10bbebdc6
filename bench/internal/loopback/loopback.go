// Package loopback refuses benchmark targets that are not on this machine's loopback interface.
package loopback

import (
	"fmt"
	"net"
	"net/url"
)

// Check returns an error unless rawURL is an http(s) URL whose host is localhost or a loopback
// IP address. Host names other than localhost are refused rather than resolved.
func Check(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("bad URL %q: %w", rawURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("URL %q: scheme must be http or https", rawURL)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("URL %q: benchmarks only target loopback addresses (127.0.0.1, ::1, localhost)", rawURL)
}
