package syslog

import "testing"

func BenchmarkParse(b *testing.B) {
	for _, tc := range []struct{ name, msg string }{
		{"rfc5424", `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 8710 ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry`},
		{"rfc3164", `<190>Nov 21 11:59:58 web-1 nginx[1234]: 127.0.0.1 - - [21/Nov/2025:11:59:58 +0000] "GET /api HTTP/1.1" 200 512 "-" "curl/8.0"`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			msg := []byte(tc.msg)
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				m, err := Parse(msg, testNow)
				if err != nil {
					b.Fatal(err)
				}
				_ = m.Record(testNow)
			}
		})
	}
}
