package syslog

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFrameReader(t *testing.T) {
	type frame struct {
		text string
		cut  bool
	}
	tests := []struct {
		name string
		in   string
		max  int
		want []frame
		err  error // the error after the frames; default io.EOF
	}{
		{name: "lf", in: "<13>a\n<13>b\n", want: []frame{{text: "<13>a"}, {text: "<13>b"}}},
		{name: "crlf", in: "<13>a\r\n<13>b\r\n", want: []frame{{text: "<13>a"}, {text: "<13>b"}}},
		{name: "nul", in: "<13>a\x00<13>b\x00", want: []frame{{text: "<13>a"}, {text: "<13>b"}}},
		{name: "octet counted", in: "5 <13>a6 <13>bc", want: []frame{{text: "<13>a"}, {text: "<13>bc"}}},
		{name: "octet count includes the lf (rsyslog)", in: "6 <13>a\n7 <13>bc\n", want: []frame{{text: "<13>a"}, {text: "<13>bc"}}},
		{name: "octet count then lf", in: "5 <13>a\n5 <13>b\n", want: []frame{{text: "<13>a"}, {text: "<13>b"}}},
		{name: "octet counted with embedded lf", in: "9 <13>a\nb\nc", want: []frame{{text: "<13>a\nb\nc"}}},
		{name: "mixed per message", in: "5 <13>a<13>b\n7 <13>cde\n\n<13>f", want: []frame{{text: "<13>a"}, {text: "<13>b"}, {text: "<13>cde"}, {text: "<13>f"}}},
		{name: "last line without terminator", in: "<13>tail", want: []frame{{text: "<13>tail"}}},
		{name: "digits that are not a count", in: "123abc\n12345678901 x\n", want: []frame{{text: "123abc"}, {text: "12345678901 x"}}},
		{name: "zero count", in: "0 <13>a\n", want: []frame{{text: ""}, {text: "<13>a"}}},
		{name: "long line cut", in: "<13>0123456789\n<13>x\n", max: 8, want: []frame{{text: "<13>0123", cut: true}, {text: "<13>x"}}},
		{name: "long counted frame cut", in: "14 <13>0123456789<13>x\n", max: 8, want: []frame{{text: "<13>0123", cut: true}, {text: "<13>x"}}},
		{name: "counted frame cut short", in: "10 <13>a", want: nil, err: io.ErrUnexpectedEOF},
		{name: "empty", in: "", want: nil},
		{name: "only separators", in: "\n\r\n\x00  \n", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			maxBytes := tc.max
			if maxBytes == 0 {
				maxBytes = 1024
			}
			// A reader that returns one byte at a time finds every place
			// where the framing would wait for more than it needs.
			for _, r := range []io.Reader{strings.NewReader(tc.in), &oneByteReader{s: tc.in}} {
				fr := newFrameReader(r, maxBytes)
				var got []frame
				var err error
				for {
					var b []byte
					var cut bool
					if b, cut, err = fr.next(); err != nil {
						break
					}
					got = append(got, frame{text: string(b), cut: cut})
				}
				require.Equal(t, tc.want, got)
				wantErr := tc.err
				if wantErr == nil {
					wantErr = io.EOF
				}
				require.True(t, errors.Is(err, wantErr), "err %v, want %v", err, wantErr)
			}
		})
	}
}

type oneByteReader struct {
	s string
	i int
}

func (r *oneByteReader) Read(p []byte) (int, error) {
	if r.i >= len(r.s) {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.s[r.i]
	r.i++
	return 1, nil
}
