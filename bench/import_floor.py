# The storage writes of a Custos import alone (bench/import_floor.sh): the rows an import of N
# customers stored (read from a vault that imported them), written again into a copy of that
# vault as it was before the import, in the import's batches (2,000 customers a transaction),
# with SQLite doing all the work (INSERT ... SELECT from a prepared copy read in order): no CSV
# parsing, no crypto, no hashing, no statement calls per row, no checkpoint. Then the
# end-of-import merge of the staged blind index, as `custos import` ends. Prints the wall time
# of the writes and each table's share. A lower bound on what the import's storage costs with
# today's tables, to set beside `sqlite3 .import` of the same CSV.
#   python3 bench/import_floor.py IMPORTED_VAULT_DB FRESH_VAULT_DB WORKDIR
import sqlite3, sys, time, shutil, os
src, fresh, work = sys.argv[1], sys.argv[2], sys.argv[3]
B = 2000
prep = os.path.join(work, "prep.db"); dst = os.path.join(work, "dst.db")
for f in (prep, dst, dst + "-wal", dst + "-shm"):
    if os.path.exists(f): os.remove(f)
shutil.copy(fresh, dst)
p = sqlite3.connect(prep, isolation_level=None)
p.execute(f"ATTACH '{src}' AS s")
p.execute(f"CREATE TABLE ord AS SELECT (row_number() OVER (ORDER BY rowid) - 1) / {B} AS b, "
          "rowid AS r, customer_id FROM s.customers")
p.execute("CREATE INDEX ord_c ON ord(customer_id)")
def cols(conn, schema, t):
    return [r[1] for r in conn.execute(f"PRAGMA {schema}.table_info({t})")]
for t in ("customers", "wrapped_keys", "customer_tokens", "consent_ledger"):
    c = ", ".join("x." + k for k in cols(p, "s", t))
    p.execute(f"CREATE TABLE p_{t} AS SELECT o.b AS b, {c} FROM s.{t} x JOIN ord o "
              f"USING(customer_id) ORDER BY o.b, o.r")
p.execute("CREATE TABLE p_staged AS SELECT o.b AS b, x.field, x.token, x.customer_id "
          "FROM s.blind_index x JOIN ord o USING(customer_id) ORDER BY o.b, o.r")
head = sqlite3.connect(fresh).execute("SELECT coalesce(max(seq), 0) FROM audit_log").fetchone()[0]
p.execute(f"CREATE TABLE p_audit_log AS SELECT (seq - {head} - 1) / {B} AS b, * FROM s.audit_log "
          f"WHERE seq > {head} ORDER BY seq")
for t in ("customers", "wrapped_keys", "customer_tokens", "consent_ledger", "staged", "audit_log"):
    p.execute(f"CREATE INDEX p_{t}_b ON p_{t}(b)")
p.close()

d = sqlite3.connect(dst, isolation_level=None)
# No checkpoint during the writes (Custos checkpoints on a thread of its own): a lower bound.
for pr in ("journal_mode=WAL", "synchronous=NORMAL", "secure_delete=ON", "cache_size=-262144",
           "mmap_size=2147483648", "wal_autocheckpoint=0"):
    d.execute("PRAGMA " + pr)
d.execute(f"ATTACH '{prep}' AS p")
nb = d.execute("SELECT max(b) FROM p.p_customers").fetchone()[0] + 1
stmts = []
for t in ("customers", "wrapped_keys", "customer_tokens", "consent_ledger", "audit_log"):
    c = ", ".join(cols(d, "main", t))
    stmts.append(f"INSERT INTO main.{t}({c}) SELECT {c} FROM p.p_{t} WHERE b = ?")
stmts.append("INSERT INTO blind_index_staged(field, token, customer_id) "
             "SELECT field, token, customer_id FROM p.p_staged WHERE b = ?")
# The query keys as IndexAuditKeys writes them since migration 18: one span per column, key and
# run of 256 entries (store/row_operations.cpp IndexAuditKeysSql), and the runs' time spans.
keys = " UNION ALL ".join(
    f"SELECT {i} AS col, {k} AS key, seq FROM main.audit_log WHERE seq > ?1 AND seq <= ?2 AND {k} <> ''"
    for i, k in enumerate(["target", "actor", "action", "decision", "purpose"]))
keys_sql = (f"INSERT OR IGNORE INTO audit_key_spans(col, key, first_seq, last_seq) "
            f"SELECT col, key, min(seq), max(seq) FROM ({keys}) GROUP BY col, key, (seq - 1) / 256 "
            f"ORDER BY 1, 2, 3")
names = ["customers", "wrapped_keys", "customer_tokens", "consent_ledger", "audit_log",
         "blind_index_staged", "audit_key_spans", "commit"]
spent = dict.fromkeys(names, 0.0)
t0 = time.time()
seq = head
for b in range(nb):
    d.execute("BEGIN IMMEDIATE")
    for name, s in zip(names, stmts):
        a = time.time(); d.execute(s, (b,)); spent[name] += time.time() - a
    new = d.execute("SELECT max(seq) FROM main.audit_log").fetchone()[0]
    a = time.time(); d.execute(keys_sql, (seq, new)); spent["audit_key_spans"] += time.time() - a
    seq = new
    a = time.time(); d.execute("COMMIT"); spent["commit"] += time.time() - a
t1 = time.time()
d.execute("BEGIN IMMEDIATE")
d.execute("INSERT OR IGNORE INTO blind_index(field, token, customer_id) SELECT field, token, "
          "customer_id FROM blind_index_staged ORDER BY field, token, customer_id")
d.execute("DELETE FROM blind_index_staged")
d.execute("COMMIT")
t2 = time.time()
n = d.execute("SELECT count(*) FROM main.customers").fetchone()[0]
print("  " + ", ".join(f"{k} {v:.3f}" for k, v in spent.items()))
print(f"storage writes alone: {n} customers in {nb} batches {t1 - t0:.3f} s + merge {t2 - t1:.3f} s "
      f"= {t2 - t0:.3f} s")
