package jsondoc

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
)

func TestDecode(t *testing.T) {
	fs, err := Decode([]byte(` {"b":{"c":1.50,"d":null,"e":{}},"a":"x","f":[1,{"g":null}],"h":false,"b.c":"2"} `))
	require.NoError(t, err)
	require.Equal(t, Fields{
		{Attr: event.Attr{Key: "a", Value: "x"}},
		{Attr: event.Attr{Key: "b.c", Value: "1.50"}, Numeric: true},
		{Attr: event.Attr{Key: "b.c", Value: "2"}},
		{Attr: event.Attr{Key: "f", Value: `[1,{"g":null}]`}},
		{Attr: event.Attr{Key: "h", Value: "false"}},
	}, fs)

	for in, want := range map[string]error{
		`{"a":1} {}`: ErrTrailingData,
		`{"a":1}x`:   ErrTrailingData,
		`[1]`:        ErrNotObject,
		`"s"`:        ErrNotObject,
		`null`:       ErrNotObject,
	} {
		_, err := Decode([]byte(in))
		require.ErrorIs(t, err, want, in)
	}
	var syntax *json.SyntaxError
	_, err = Decode([]byte(`{"a":`))
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrTrailingData)
	_, err = Decode([]byte(`{"a" 1}`))
	require.ErrorAs(t, err, &syntax)
}

func TestFindTake(t *testing.T) {
	fs := Fields{{Attr: event.Attr{Key: "a", Value: "1"}}, {Attr: event.Attr{Key: "b", Value: "2"}}}
	require.Equal(t, -1, fs.Find("c"))
	i := fs.Find("b")
	require.Equal(t, 1, i)
	require.Equal(t, "2", fs.Take(i))
	require.Equal(t, Fields{{Attr: event.Attr{Key: "a", Value: "1"}}}, fs)
}

func TestLift(t *testing.T) {
	m := Mapping{Level: []string{"level", "severity"}, Message: []string{"message", "msg"}}
	upper := strings.ToUpper
	tests := []struct {
		name string
		doc  string
		want event.Record
	}{
		{
			name: "message and level lifted",
			doc:  `{"msg":"hi","level":"warning","user":"bob"}`,
			want: event.Record{Level: event.LevelWarn, Body: "HI", Attrs: []event.Attr{{Key: "USER", Value: "BOB"}}},
		},
		{
			name: "unknown level stays an attribute, next candidate wins",
			doc:  `{"message":"a","msg":"b","level":"chatty","severity":"err"}`,
			want: event.Record{Level: event.LevelError, Body: "A", Attrs: []event.Attr{
				{Key: "LEVEL", Value: "CHATTY"}, {Key: "MSG", Value: "B"},
			}},
		},
		{
			name: "empty message is still the message",
			doc:  `{"message":"","x":1}`,
			want: event.Record{Level: event.LevelUnknown, Body: "", Attrs: []event.Attr{{Key: "X", Value: "1"}}},
		},
		{
			name: "no message: whole document is the body",
			doc:  "\t{\"level\":\"info\",\"x\":1}\n",
			want: event.Record{Level: event.LevelInfo, Body: `{"LEVEL":"INFO","X":1}`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := Decode([]byte(tc.doc))
			require.NoError(t, err)
			rec := event.Record{Level: event.LevelUnknown}
			m.Lift(&rec, fs, []byte(tc.doc), upper)
			require.Equal(t, tc.want, rec)
		})
	}
}
