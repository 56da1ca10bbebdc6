package report

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
)

// Disk is what a server left in its data directory after a graceful stop.
type Disk struct {
	DataDir        string  `json:"data_dir"`
	DataDirBytes   int64   `json:"data_dir_bytes"` // apparent size of every file
	TSDBDir        string  `json:"tsdb_dir,omitempty"`
	TSDBBytes      int64   `json:"tsdb_bytes"`           // apparent size
	TSDBAllocated  int64   `json:"tsdb_allocated_bytes"` // blocks allocated on the file system
	WALBytes       int64   `json:"wal_bytes"`            // wal/ (incl. checkpoints)
	HeadChunkBytes int64   `json:"head_chunks_bytes"`    // chunks_head/
	Blocks         []Block `json:"blocks"`
	BlockBytes     int64   `json:"block_bytes"`
	BlockSamples   int64   `json:"block_samples"`
	BlockSeries    int64   `json:"block_series_max"`
}

// Block is one persisted TSDB block, from its meta.json.
type Block struct {
	ULID      string `json:"ulid"`
	MinTime   int64  `json:"min_time"`
	MaxTime   int64  `json:"max_time"`
	Samples   int64  `json:"samples"`
	Series    int64  `json:"series"`
	Chunks    int64  `json:"chunks"`
	Bytes     int64  `json:"bytes"`
	Allocated int64  `json:"allocated_bytes"`
	Compacted int    `json:"compaction_level"`
}

type blockMeta struct {
	ULID    string `json:"ulid"`
	MinTime int64  `json:"minTime"`
	MaxTime int64  `json:"maxTime"`
	Stats   struct {
		NumSamples int64 `json:"numSamples"`
		NumSeries  int64 `json:"numSeries"`
		NumChunks  int64 `json:"numChunks"`
	} `json:"stats"`
	Compaction struct {
		Level int `json:"level"`
	} `json:"compaction"`
}

// ScanDisk measures dataDir. The TSDB is the shallowest directory under it holding a wal/
// directory, so that a server keeping other stores beside its TSDB is measured on the same
// footing as Prometheus. Blocks are the directories holding a meta.json with a ULID.
func ScanDisk(dataDir string) (*Disk, error) {
	d := &Disk{DataDir: dataDir}
	var walDirs []string
	err := filepath.WalkDir(dataDir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if e.Name() == "wal" {
				walDirs = append(walDirs, filepath.Dir(path))
			}
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		d.DataDirBytes += info.Size()
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(walDirs) == 0 {
		return d, errors.New("no wal/ directory found under " + dataDir)
	}
	slices.SortFunc(walDirs, func(a, b string) int { return len(a) - len(b) })
	d.TSDBDir = walDirs[0]

	err = filepath.WalkDir(d.TSDBDir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if b, ok := readBlock(path); ok {
				d.Blocks = append(d.Blocks, b)
				return fs.SkipDir
			}
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		d.TSDBBytes += info.Size()
		d.TSDBAllocated += allocated(info)
		rel, _ := filepath.Rel(d.TSDBDir, path)
		switch firstElem(rel) {
		case "wal":
			d.WALBytes += info.Size()
		case "chunks_head":
			d.HeadChunkBytes += info.Size()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, b := range d.Blocks {
		d.TSDBBytes += b.Bytes
		d.TSDBAllocated += b.Allocated
		d.BlockBytes += b.Bytes
		d.BlockSamples += b.Samples
		d.BlockSeries = max(d.BlockSeries, b.Series)
	}
	return d, nil
}

func readBlock(dir string) (Block, bool) {
	raw, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		return Block{}, false
	}
	var m blockMeta
	if err := json.Unmarshal(raw, &m); err != nil || m.ULID == "" {
		return Block{}, false
	}
	b := Block{
		ULID: m.ULID, MinTime: m.MinTime, MaxTime: m.MaxTime, Samples: m.Stats.NumSamples,
		Series: m.Stats.NumSeries, Chunks: m.Stats.NumChunks, Compacted: m.Compaction.Level,
	}
	_ = filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if info, err := e.Info(); err == nil {
				b.Bytes += info.Size()
				b.Allocated += allocated(info)
			}
		}
		return nil
	})
	return b, true
}

func allocated(info fs.FileInfo) int64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return info.Size()
}

func firstElem(rel string) string {
	for i := 0; i < len(rel); i++ {
		if os.IsPathSeparator(rel[i]) {
			return rel[:i]
		}
	}
	return rel
}
