package syslog

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// frameReader splits a TCP syslog stream into messages, telling the two
// framings of RFC 6587 apart per message, as rsyslog and syslog-ng do: a
// frame starting with a digit is octet-counted ("123 <34>1 ..."), any other
// runs to the next LF or NUL (non-transparent framing). Stray LF, CR, NUL
// and spaces between frames are skipped, since some senders count the
// trailing LF in the octet count and others add one after it.
type frameReader struct {
	r   *bufio.Reader
	max int    // longest frame kept; the rest of a longer frame is discarded
	buf []byte // reused between frames
}

func newFrameReader(r io.Reader, maxBytes int) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 64<<10), max: maxBytes}
}

// maxCountDigits bounds an octet count: counts beyond 999,999,999 are not a
// count but a message starting with digits.
const maxCountDigits = 9

// next returns the next frame, valid until the following call, and whether
// it was cut to the limit. It returns io.EOF at the end of the stream.
func (f *frameReader) next() ([]byte, bool, error) {
	for {
		c, err := f.r.ReadByte()
		if err != nil {
			return nil, false, err
		}
		switch c {
		case '\n', '\r', 0, ' ', '\t':
			continue
		}
		if err := f.r.UnreadByte(); err != nil {
			return nil, false, err
		}
		if c >= '0' && c <= '9' {
			if n, ok := f.count(); ok {
				return f.counted(n)
			}
		}
		return f.line()
	}
}

// count reads "<digits> " and returns the count, or false (consuming
// nothing) when the frame does not start with one.
func (f *frameReader) count() (int, bool) {
	n := 0
	// Peek one byte more at a time, so that nothing waits for bytes the
	// sender has not sent yet.
	for i := 0; i <= maxCountDigits; i++ {
		head, err := f.r.Peek(i + 1)
		if err != nil {
			return 0, false
		}
		switch c := head[i]; {
		case c >= '0' && c <= '9':
			n = n*10 + int(c-'0')
		case c == ' ' && i > 0:
			_, _ = f.r.Discard(i + 1)
			return n, true
		default:
			return 0, false
		}
	}
	return 0, false
}

// counted reads an octet-counted frame body of n bytes.
func (f *frameReader) counted(n int) ([]byte, bool, error) {
	keep := min(n, f.max)
	f.buf = f.buf[:0]
	if cap(f.buf) < keep {
		f.buf = make([]byte, 0, keep)
	}
	f.buf = f.buf[:keep]
	if _, err := io.ReadFull(f.r, f.buf); err != nil {
		return nil, false, unexpected(err)
	}
	if n > keep {
		if _, err := f.r.Discard(n - keep); err != nil {
			return nil, false, unexpected(err)
		}
	}
	return trimFrame(f.buf), n > keep, nil
}

// line reads a frame up to LF or NUL. A last frame without a terminator is
// returned at the end of the stream.
func (f *frameReader) line() ([]byte, bool, error) {
	f.buf = f.buf[:0]
	cut := false
	for {
		if f.r.Buffered() == 0 {
			if _, err := f.r.Peek(1); err != nil {
				if errors.Is(err, io.EOF) && len(f.buf) > 0 {
					return trimFrame(f.buf), cut, nil
				}
				return nil, false, err
			}
		}
		chunk, _ := f.r.Peek(f.r.Buffered())
		end := bytes.IndexAny(chunk, "\n\x00")
		data := chunk
		if end >= 0 {
			data = chunk[:end]
		}
		take := min(len(data), f.max-len(f.buf))
		f.buf = append(f.buf, data[:take]...)
		cut = cut || take < len(data)
		if end >= 0 {
			_, _ = f.r.Discard(end + 1)
			return trimFrame(f.buf), cut, nil
		}
		_, _ = f.r.Discard(len(chunk))
	}
}

// trimFrame drops the line ending a sender may have kept in the frame.
func trimFrame(b []byte) []byte {
	return bytes.TrimRight(b, "\r\n\x00")
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
