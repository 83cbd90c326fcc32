"""kafka_batch.py — an independent reader of sluice's embedded log on disk.

Decodes the segment files <data_dir>/topics/<topic>/<partition>/<base>.log
as Kafka RecordBatch v2 (magic 2) without going through sluice: big-endian
fixed header, zigzag varint records, headers, and the CRC-32C (Castagnoli,
reflected polynomial 0x82F63B78) over attributes..end of each batch,
computed here in Python. Also Kafka's murmur2 partitioner (Utils.murmur2,
seed 0x9747b28c, toPositive(h) % n) so tests can check where keys landed.

Compressed batches (attributes bits 0-2: 1 gzip, 2 snappy, 3 lz4, 4 zstd) are
decompressed here too, with Python's gzip and cramjam (an independent
implementation of each codec): gzip streams, Xerial-framed or raw snappy, LZ4
frames, zstd frames, as Kafka's clients write them.

Used by the end-to-end tests to verify topic contents from the bytes, and
to write batches of their own (encode_batch) where a test needs a file
sluice would never write.
"""
import gzip
import os
import re
import struct
import sys
from dataclasses import dataclass, field

# ---- CRC-32C ---------------------------------------------------------------

_CASTAGNOLI_REFLECTED = 0x82F63B78


def _make_tables():
    """Slicing-by-8 tables for the reflected Castagnoli polynomial."""
    t0 = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ _CASTAGNOLI_REFLECTED if c & 1 else c >> 1
        t0.append(c)
    tables = [t0]
    for _ in range(7):
        prev = tables[-1]
        tables.append([(prev[n] >> 8) ^ t0[prev[n] & 0xFF] for n in range(256)])
    return tables


_T = _make_tables()


def crc32c(data, crc=0):
    """CRC-32C of data (bytes-like), continuing from crc (0 to start)."""
    t0, t1, t2, t3, t4, t5, t6, t7 = _T
    mv = memoryview(data).cast("B")
    crc ^= 0xFFFFFFFF
    n8 = len(mv) // 8 * 8 if sys.byteorder == "little" else 0
    # Eight bytes per step, read as one little-endian u64 (slicing-by-8).
    for q in mv[:n8].cast("Q"):
        lo = (q & 0xFFFFFFFF) ^ crc
        hi = q >> 32
        crc = (t7[lo & 0xFF] ^ t6[(lo >> 8) & 0xFF] ^ t5[(lo >> 16) & 0xFF] ^ t4[lo >> 24]
               ^ t3[hi & 0xFF] ^ t2[(hi >> 8) & 0xFF] ^ t1[(hi >> 16) & 0xFF] ^ t0[hi >> 24])
    for b in mv[n8:]:
        crc = t0[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def crc32c_bitwise(data):
    """Slow bit-at-a-time CRC-32C, the definition the table version must match."""
    crc = 0xFFFFFFFF
    for b in bytes(data):
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ _CASTAGNOLI_REFLECTED if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


# ---- murmur2 (Kafka's default partitioner) ----------------------------------

def murmur2(data):
    """Kafka's org.apache.kafka.common.utils.Utils.murmur2 as a signed 32-bit int."""
    data = bytes(data)
    length = len(data)
    m = 0x5BD1E995
    r = 24
    mask = 0xFFFFFFFF
    h = (0x9747B28C ^ length) & mask
    n4 = length // 4
    for i in range(n4):
        k = data[4 * i] | (data[4 * i + 1] << 8) | (data[4 * i + 2] << 16) | (data[4 * i + 3] << 24)
        k = (k * m) & mask
        k ^= k >> r
        k = (k * m) & mask
        h = (h * m) & mask
        h ^= k
    tail = length & ~3
    rest = length % 4
    if rest == 3:
        h ^= data[tail + 2] << 16
    if rest >= 2:
        h ^= data[tail + 1] << 8
    if rest >= 1:
        h ^= data[tail]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for_key(key, n_partitions):
    """toPositive(murmur2(key)) % n, as Kafka's producer picks for a keyed record."""
    if isinstance(key, str):
        key = key.encode()
    return (murmur2(key) & 0x7FFFFFFF) % n_partitions


# ---- varints -----------------------------------------------------------------

class CorruptBatch(Exception):
    """The bytes are not a valid RecordBatch v2 (message says where and why)."""


def read_varint(buf, pos, end):
    """Zigzag base-128 varint at buf[pos:end] -> (value, next pos)."""
    shift = 0
    raw = 0
    while True:
        if pos >= end:
            raise CorruptBatch("truncated varint")
        b = buf[pos]
        pos += 1
        raw |= (b & 0x7F) << shift
        if not b & 0x80:
            break
        shift += 7
        if shift > 63:
            raise CorruptBatch("varint longer than 10 bytes")
    return (raw >> 1) ^ -(raw & 1), pos


# ---- batches -------------------------------------------------------------------

HEADER = struct.Struct(">qiibIhiqqqhii")  # 61 bytes, baseOffset .. record count
assert HEADER.size == 61


@dataclass
class Record:
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: list = field(default_factory=list)  # [(str, bytes | None)]

    def header(self, name):
        """Value of the first header called name, decoded as UTF-8 (None when absent)."""
        for key, value in self.headers:
            if key == name:
                return None if value is None else value.decode("utf-8")
        return None


@dataclass
class Batch:
    base_offset: int
    length: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    n_records: int
    records: list


CODECS = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
CODECS_BY_NAME = {name: number for number, name in CODECS.items()}
_XERIAL_MAGIC = b"\x82SNAPPY\x00"


def decompress(codec, data):
    """The records section of a batch compressed with codec (Kafka's numbers), decompressed."""
    import cramjam
    data = bytes(data)
    if codec == 1:
        return gzip.decompress(data)
    if codec == 2:
        if not data.startswith(_XERIAL_MAGIC):
            return bytes(cramjam.snappy.decompress_raw(data))
        version, compatible = struct.unpack_from(">ii", data, 8)
        if (version, compatible) != (1, 1):
            raise CorruptBatch(f"Xerial snappy header version {version}/{compatible}, expected 1/1")
        out, p = bytearray(), 16
        while p < len(data):
            (n,) = struct.unpack_from(">i", data, p)
            out += bytes(cramjam.snappy.decompress_raw(data[p + 4:p + 4 + n]))
            p += 4 + n
        return bytes(out)
    if codec == 3:
        return bytes(cramjam.lz4.decompress(data))
    if codec == 4:
        return bytes(cramjam.zstd.decompress(data))
    raise CorruptBatch(f"unknown compression codec {codec}")


def decode_batch(buf, pos, partition, verify_crc=True):
    """Decodes the batch starting at buf[pos] -> (Batch, next pos)."""
    if len(buf) - pos < HEADER.size:
        raise CorruptBatch(f"at byte {pos}: {len(buf) - pos} bytes left, a batch header needs 61")
    (base_offset, batch_length, _epoch, magic, crc, attributes, last_offset_delta,
     base_ts, max_ts, _pid, _pepoch, _seq, n_records) = HEADER.unpack_from(buf, pos)
    end = pos + 12 + batch_length
    if batch_length < HEADER.size - 12 or end > len(buf):
        raise CorruptBatch(f"at byte {pos}: batch length {batch_length} does not fit the file")
    if magic != 2:
        raise CorruptBatch(f"at byte {pos}: magic {magic}, expected 2")
    if verify_crc:
        actual = crc32c(memoryview(buf)[pos + 21:end])
        if actual != crc:
            raise CorruptBatch(f"at byte {pos}: CRC-32C {actual:#010x} != stored {crc:#010x}")
    batch_pos = pos
    if attributes & 0x07:
        buf = decompress(attributes & 0x07, memoryview(buf)[pos + HEADER.size:end])
        batch_end = end
        pos, end = -HEADER.size, len(buf)  # records now span buf[0:end]
    records = []
    p = pos + HEADER.size
    for _ in range(n_records):
        length, p = read_varint(buf, p, end)
        rec_end = p + length
        if length < 0 or rec_end > end:
            raise CorruptBatch(f"at byte {p}: record length {length} overruns its batch")
        p += 1  # record attributes
        ts_delta, p = read_varint(buf, p, rec_end)
        off_delta, p = read_varint(buf, p, rec_end)
        key_len, p = read_varint(buf, p, rec_end)
        key = None
        if key_len >= 0:
            key = bytes(buf[p:p + key_len])
            p += key_len
        value_len, p = read_varint(buf, p, rec_end)
        value = None
        if value_len >= 0:
            value = bytes(buf[p:p + value_len])
            p += value_len
        n_headers, p = read_varint(buf, p, rec_end)
        headers = []
        for _ in range(n_headers):
            hk_len, p = read_varint(buf, p, rec_end)
            hkey = bytes(buf[p:p + hk_len]).decode("utf-8")
            p += hk_len
            hv_len, p = read_varint(buf, p, rec_end)
            hval = None
            if hv_len >= 0:
                hval = bytes(buf[p:p + hv_len])
                p += hv_len
            headers.append((hkey, hval))
        if p != rec_end:
            raise CorruptBatch(f"record at offset {base_offset + off_delta}: {rec_end - p} bytes left over")
        records.append(Record(partition, base_offset + off_delta, base_ts + ts_delta, key, value, headers))
        p = rec_end
    if p != end:
        raise CorruptBatch(f"batch at byte {batch_pos}: {end - p} bytes after its {n_records} records")
    if records and records[-1].offset != base_offset + last_offset_delta:
        raise CorruptBatch(f"batch at byte {batch_pos}: last offset delta {last_offset_delta} does not match")
    batch = Batch(base_offset, batch_length, magic, crc, attributes, last_offset_delta,
                  base_ts, max_ts, n_records, records)
    return batch, (batch_end if attributes & 0x07 else end)


_SEGMENT = re.compile(r"^(\d{20})\.log$")


# ---- writing a batch (for tests that need hostile files) -------------------------------------

def zigzag_varint(value):
    u = (value << 1) ^ (value >> 63)
    out = bytearray()
    while u >= 0x80:
        out.append((u & 0x7F) | 0x80)
        u >>= 7
    out.append(u)
    return bytes(out)


def encode_batch(base_offset, values, timestamp=1_700_000_000_000):
    """One uncompressed RecordBatch v2 of values (bytes) at base_offset, CRC-32C correct."""
    records = b""
    for delta, value in enumerate(values):
        body = (b"\x00" + zigzag_varint(0) + zigzag_varint(delta) + zigzag_varint(-1) +
                zigzag_varint(len(value)) + value + zigzag_varint(0))
        records += zigzag_varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", 0, len(values) - 1, timestamp, timestamp, -1, -1, -1,
                            len(values)) + records
    crc = crc32c(after_crc)
    batch_length = 4 + 1 + 4 + len(after_crc)
    return struct.pack(">qiibI", base_offset, batch_length, 0, 2, crc) + after_crc


def segment_files(partition_dir):
    """The .log segment paths of a partition dir, sorted by base offset."""
    names = [n for n in os.listdir(partition_dir) if _SEGMENT.match(n)]
    return [os.path.join(partition_dir, n) for n in sorted(names)]


def read_segment(path, partition, verify_crc=True):
    """Every batch of one segment file (the whole file must be valid batches)."""
    with open(path, "rb") as f:
        buf = f.read()
    base = int(_SEGMENT.match(os.path.basename(path)).group(1))
    batches = []
    pos = 0
    while pos < len(buf):
        try:
            batch, pos = decode_batch(buf, pos, partition, verify_crc)
        except CorruptBatch as e:
            raise CorruptBatch(f"{path}: {e}") from None
        if batch.base_offset < base:
            raise CorruptBatch(f"{path}: batch offset {batch.base_offset} below segment base {base}")
        batches.append(batch)
    return batches


def partitions(data_dir, topic):
    """Partition numbers present on disk for topic, sorted."""
    tdir = os.path.join(data_dir, "topics", topic)
    return sorted(int(n) for n in os.listdir(tdir) if n.isdigit())


def read_partition(data_dir, topic, partition, verify_crc=True):
    """Every record of one partition, in offset order; checks offsets only increase."""
    pdir = os.path.join(data_dir, "topics", topic, str(partition))
    records = []
    last = -1
    for path in segment_files(pdir):
        for batch in read_segment(path, partition, verify_crc):
            for record in batch.records:
                if record.offset <= last:
                    raise CorruptBatch(f"{path}: offset {record.offset} after {last}")
                last = record.offset
                records.append(record)
    return records


def read_topic(data_dir, topic, verify_crc=True):
    """{partition: [Record, ...]} for every partition of topic on disk."""
    return {p: read_partition(data_dir, topic, p, verify_crc) for p in partitions(data_dir, topic)}
