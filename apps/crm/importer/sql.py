"""The SQL half of an import: the temp table rows are COPYed into, the checks that need the
whole batch or the database (duplicates, matches, clashes, required fields), and the writes."""
from __future__ import annotations

from django.db import connection

from apps.crm.importer.rows import STAGE_COLUMNS

STAGE = "crm_import_stage"
DEDUPE_KEY = {"email": "email", "phone": "phone_key", "external_id": "external_id"}
DEDUPE_LABEL = {"email": "e-mail", "phone": "phone", "external_id": "external id"}
CONTACT_TEXTS = ["first_name", "last_name", "title", "email", "other_email", "phone", "mobile", "work_phone", "street",
                 "city", "region", "postal_code", "country", "owner", "source", "external_id", "notes"]


class StageSQL:
    """Mixed into ``ImportRun``: uses its options, outcome, sink, job id and mapped fields."""

    def _create_stage(self, on_commit_delete: bool = False) -> None:
        columns = ", ".join(f"{name} {kind}" for name, kind in STAGE_COLUMNS)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cursor.execute(f"CREATE TEMP TABLE {STAGE} ({columns}, match_id bigint, level text, code text, "
                           f"issue text){' ON COMMIT DELETE ROWS' if on_commit_delete else ''}")
            # Company name (lower-cased) -> account id, filled as batches meet new names.
            cursor.execute("DROP TABLE IF EXISTS crm_import_accounts")
            cursor.execute("CREATE TEMP TABLE crm_import_accounts (lname text PRIMARY KEY, id bigint)")

    def _copy(self, batch: list[list]) -> None:
        names = ", ".join(name for name, _ in STAGE_COLUMNS)
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY {STAGE} ({names}) FROM STDIN") as copy:
                for values in batch:
                    copy.write_row(values)

    # --- analysis (SQL over the stage) -----------------------------------------------------------
    def upsert_applies(self, custom_defs) -> bool:
        """The common case (match on e-mail, update on a match) can be one INSERT ... ON CONFLICT
        per batch instead of match + UPDATE + INSERT, when nothing else needs the matches:
        no other unique column mapped (their clash check compares with the match), no required
        custom field (checked on new rows only), and no boolean column (an empty cell must not
        overwrite, which the upsert's EXCLUDED row cannot tell)."""
        o = self.options
        return (o.dedupe_on == "email" and o.on_match == "update" and "email" in self.mapped
                and "external_id" not in self.mapped and "shared_in_directory" not in self.mapped
                and not any(d.required or (d.unique and f"cf:{d.name}" in self.mapped) for d in custom_defs))

    def dedupe_key(self) -> str | None:
        """The stage column rows are deduplicated and matched on, or None when the file maps no
        column for it (every row is then new)."""
        key = DEDUPE_KEY.get(self.options.dedupe_on)
        if key and not (self.mapped & ({"phone", "mobile", "work_phone"} if key == "phone_key" else {key})):
            return None
        return key

    def _skip_seen(self, key: str) -> None:
        """Pipelined batches of a big file: add the staged rows' dedupe keys to those seen and skip
        the rows whose key an earlier batch had (the keys the INSERT did not add; their first
        line is looked up for those few only, in the table as it was before the statement)."""
        label = DEDUPE_LABEL[self.options.dedupe_on]
        with connection.cursor() as cursor:
            cursor.execute(f"""
                WITH new AS (
                    INSERT INTO crm_import_seen (k, row_no)
                    SELECT {key}, row_no FROM {STAGE} WHERE {key} IS NOT NULL
                    ON CONFLICT DO NOTHING RETURNING k)
                UPDATE {STAGE} t SET level = 'skipped', code = 'duplicate_in_file',
                       issue = format('Same {label} as line %s; only the first is imported.',
                                      (SELECT s.row_no FROM crm_import_seen s WHERE s.k = t.{key}))
                WHERE t.{key} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM new WHERE new.k = t.{key})""")

    def _analyse(self, custom_defs, in_file_checked: bool = False, match: bool = True) -> tuple[int, int]:
        """Mark the stage's rows (skipped/error) and find their matches; returns (to create, to update).
        ``in_file_checked``: repeated dedupe keys were already skipped (pipelined jobs: the parser
        within a batch, ``_skip_seen`` across batches);
        ``match=False`` (the upsert path) leaves matching to the INSERT ... ON CONFLICT."""
        opts, out = self.options, self.outcome
        key = self.dedupe_key()
        mapped = self.mapped
        with connection.cursor() as cursor:
            # Hash joins and aggregates over the stage stay in memory (reset in drop_stage).
            cursor.execute("SET work_mem = '64MB'")
            # No ANALYZE: the planner sizes a never-analysed table from its pages, which is enough
            # to pick hash joins here, and ANALYZE of a large stage costs more than it saves.
            # 1. the same dedupe key twice in the file: the first row wins, the others are skipped.
            if key and not in_file_checked:
                cursor.execute(f"""
                    UPDATE {STAGE} t SET level = 'skipped', code = 'duplicate_in_file',
                           issue = format('Same {DEDUPE_LABEL[opts.dedupe_on]} as line %s; only the first is imported.', d.first_row)
                    FROM (SELECT {key} AS k, min(row_no) AS first_row FROM {STAGE}
                          WHERE {key} IS NOT NULL GROUP BY {key} HAVING count(*) > 1) d
                    WHERE t.{key} = d.k AND t.row_no <> d.first_row""")
            # 2. other unique values twice in the file: an error (which one is right?).
            # (Only for columns the file maps; the dedupe key's own clashes are its matches.)
            uniques = [(f"s.{n}", f"c.{n}", label, n) for n, label in (("email", "e-mail"),
                                                                         ("external_id", "external id"))
                       if n in mapped and n != key]
            uniques += [(f"(s.custom->'{n}')", f"(c.custom->'{n}')", n, None) for n in _unique_custom(custom_defs)
                        if f"cf:{n}" in mapped]
            for s_expr, _, label, name in uniques:
                cursor.execute(f"""
                    UPDATE {STAGE} t SET level = 'error', code = 'duplicate_in_file',
                           issue = format('Same {label} as line %s.', d.first_row)
                    FROM (SELECT {s_expr} AS k, min(s.row_no) AS first_row FROM {STAGE} s
                          WHERE {s_expr} IS NOT NULL AND s.level IS NULL GROUP BY 1 HAVING count(*) > 1) d
                    WHERE {s_expr.replace('s.', 't.')} = d.k AND t.row_no <> d.first_row AND t.level IS NULL""")
            # 3. matches with existing contacts.
            if not match:
                key = None
            if opts.dedupe_on == "phone" and key:
                cursor.execute(f"""
                    UPDATE {STAGE} s SET match_id = m.id FROM (
                        SELECT x.row_no, min(x.id) AS id FROM (
                            SELECT s2.row_no, c.id FROM {STAGE} s2 JOIN crm_contact c ON c.phone = s2.phone_key
                            UNION ALL SELECT s2.row_no, c.id FROM {STAGE} s2 JOIN crm_contact c ON c.mobile = s2.phone_key
                            UNION ALL SELECT s2.row_no, c.id FROM {STAGE} s2 JOIN crm_contact c ON c.work_phone = s2.phone_key
                        ) x GROUP BY x.row_no) m
                    WHERE m.row_no = s.row_no AND s.level IS NULL""")
            elif key:
                cursor.execute(f"""UPDATE {STAGE} s SET match_id = c.id FROM crm_contact c
                                   WHERE c.{key} = s.{key} AND s.{key} IS NOT NULL AND s.level IS NULL""")
            if key and opts.on_match == "skip":
                cursor.execute(f"""UPDATE {STAGE} SET level = 'skipped', code = 'exists',
                                       issue = format('Matches existing contact %s (same {DEDUPE_LABEL[opts.dedupe_on]}); skipped.', match_id)
                                   WHERE match_id IS NOT NULL AND level IS NULL""")
            if opts.on_match == "create":
                cursor.execute(f"UPDATE {STAGE} SET match_id = NULL WHERE match_id IS NOT NULL")
            # 4. unique values that belong to another existing contact.
            for s_expr, c_expr, label, _ in uniques:
                cursor.execute(f"""
                    UPDATE {STAGE} s SET level = 'error', code = 'duplicate',
                           issue = format('The {label} %s already belongs to contact %s.', {s_expr}, c.id)
                    FROM crm_contact c
                    WHERE {s_expr} IS NOT NULL AND {c_expr} = {s_expr}
                      AND c.id IS DISTINCT FROM s.match_id AND s.level IS NULL""")
            # 5. required custom fields of contacts the import creates.
            for d in custom_defs:
                if d.required:
                    cursor.execute(f"""UPDATE {STAGE} SET level = 'error', code = 'required',
                                           issue = %s
                                       WHERE match_id IS NULL AND level IS NULL
                                         AND NOT (coalesce(custom, '{{}}'::jsonb) ? %s)""",
                                   [f"{d.label} is required for a new contact.", d.name])
            cursor.execute(f"""SELECT count(*) FILTER (WHERE level IS NULL AND match_id IS NULL),
                                      count(*) FILTER (WHERE level IS NULL AND match_id IS NOT NULL),
                                      count(*) FILTER (WHERE level = 'skipped'),
                                      count(*) FILTER (WHERE level = 'error') FROM {STAGE}""")
            to_create, to_update, skipped, errors = cursor.fetchone()
            out.to_create += to_create
            out.to_update += to_update
            out.skipped += skipped
            self.sink.errors += errors
            self._collect_stage_issues(cursor, skipped + errors)
        return to_create, to_update

    def _collect_stage_issues(self, cursor, count: int) -> None:
        if not count:
            return
        self.sink.by_column["(row)"] = self.sink.by_column.get("(row)", 0) + count
        if self.sink.job_id is not None:
            cursor.execute(f"""
                INSERT INTO crm_importrowissue (job_id, row, line, level, messages)
                SELECT %s, row_no, line_no, level,
                       jsonb_build_array(jsonb_build_object('column', '', 'field', '', 'code', code, 'message', issue))
                FROM {STAGE} WHERE level IS NOT NULL""", [self.sink.job_id])
            return
        cursor.execute(f"SELECT row_no, line_no, level, code, issue FROM {STAGE} WHERE level IS NOT NULL "
                       f"ORDER BY row_no LIMIT %s", [max(0, self.sink.keep - len(self.sink.kept))])
        for row_no, line_no, level, code, issue in cursor.fetchall():
            self.sink.kept.append({"row": row_no, "line": line_no, "level": level,
                                   "messages": [{"column": "", "field": "", "code": code, "message": issue}]})
        self.sink.kept.sort(key=lambda i: i["row"])

    # --- write ---------------------------------------------------------------------------------
    def _write_upsert(self) -> None:
        """Match on e-mail and update, in one statement: ``ON CONFLICT (email) WHERE email <> ''``
        (the predicate of the partial unique index must be repeated for PostgreSQL to use it)."""
        out, job = self.outcome, self.job_id
        texts = [c for c in CONTACT_TEXTS if c != "email"]
        keep = ", ".join(f"{c} = CASE WHEN EXCLUDED.{c} = '' THEN crm_contact.{c} ELSE EXCLUDED.{c} END"
                         for c in texts)
        values = ", ".join(f"coalesce(s.{c}, '')" for c in CONTACT_TEXTS)
        with connection.cursor() as cursor:
            cursor.execute(f"""
                WITH written AS (
                    INSERT INTO crm_contact ({', '.join(CONTACT_TEXTS)}, account_id, shared_in_directory, tags,
                                             custom, created_at, updated_at, created_by_import_id)
                    SELECT {values}, s.account_id, false, coalesce(s.tags, '{{}}'),
                           coalesce(s.custom, '{{}}'::jsonb), now(), now(), %s
                    FROM {STAGE} s
                    WHERE s.level IS NULL
                    ON CONFLICT (email) WHERE email <> '' DO UPDATE SET {keep},
                        account_id = coalesce(EXCLUDED.account_id, crm_contact.account_id),
                        tags = CASE WHEN EXCLUDED.tags = '{{}}' THEN crm_contact.tags
                                    ELSE ARRAY(SELECT DISTINCT t FROM unnest(crm_contact.tags || EXCLUDED.tags) t) END,
                        custom = crm_contact.custom || EXCLUDED.custom,
                        updated_at = now()
                    RETURNING (xmax = 0) AS inserted)
                SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written""", [job])
            created, updated = cursor.fetchone()
        out.created += created
        out.updated += updated
        out.to_create += created
        out.to_update += updated

    def _resolve_accounts(self, batch: list[list]) -> None:
        """Pipelined jobs: company name -> account id in Python, cached for the whole file, so a
        batch whose companies were all seen before costs no SQL. New names become accounts now
        (an account whose rows then fail stays; undo removes it with the import)."""
        if "account" not in self.mapped:
            return
        from apps.crm.importer.rows import SLOT

        name_slot, id_slot = SLOT["account_name"], SLOT["account_id"]
        cache = self._account_ids
        missing: dict[str, str] = {}
        for values in batch:
            name = values[name_slot]
            if name and name.lower() not in cache:
                missing.setdefault(name.lower(), name)
        if missing:
            with connection.cursor() as cursor:
                cursor.execute("SELECT id, name FROM crm_account WHERE lower(name) = ANY(%s) ORDER BY id",
                               [list(missing)])
                for account_id, name in cursor.fetchall():
                    cache.setdefault(name.lower(), account_id)
                new = [name for lname, name in missing.items() if lname not in cache]
                if new:
                    cursor.execute("""
                        INSERT INTO crm_account (name, website, industry, phone, email, street, city, region,
                                                 postal_code, country, owner, tags, external_id, notes, custom,
                                                 created_at, updated_at, created_by_import_id)
                        SELECT n, '', '', '', '', '', '', '', '', '', '', '{}', '', '', '{}', now(), now(), %s
                        FROM unnest(%s::text[]) AS n
                        RETURNING id, name""", [self.job_id, new])
                    for account_id, name in cursor.fetchall():
                        cache.setdefault(name.lower(), account_id)
                    self.outcome.accounts_created += len(new)
        for values in batch:
            name = values[name_slot]
            if name:
                values[id_slot] = cache.get(name.lower())

    def _accounts(self) -> None:
        out, job = self.outcome, self.job_id
        with connection.cursor() as cursor:
            if "account" in self.mapped:
                cursor.execute(f"""
                    INSERT INTO crm_account (name, website, industry, phone, email, street, city, region, postal_code,
                                             country, owner, tags, external_id, notes, custom, created_at, updated_at,
                                             created_by_import_id)
                    SELECT DISTINCT ON (lower(s.account_name)) s.account_name, '', '', '', '', '', '', '', '', '', '',
                           '{{}}', '', '', '{{}}', now(), now(), %s
                    FROM {STAGE} s
                    WHERE s.account_name IS NOT NULL AND s.level IS NULL
                      AND NOT EXISTS (SELECT 1 FROM crm_import_accounts k WHERE k.lname = lower(s.account_name))
                      AND NOT EXISTS (SELECT 1 FROM crm_account a WHERE lower(a.name) = lower(s.account_name))
                    ORDER BY lower(s.account_name), s.row_no""", [job])
                out.accounts_created += cursor.rowcount
                # Each company name -> the oldest account of that name, remembered for later batches.
                cursor.execute(f"""
                    INSERT INTO crm_import_accounts (lname, id)
                    SELECT DISTINCT ON (lower(a.name)) lower(a.name), a.id FROM crm_account a
                    WHERE lower(a.name) IN (SELECT lower(s.account_name) FROM {STAGE} s
                                            WHERE s.account_name IS NOT NULL AND s.level IS NULL
                                              AND NOT EXISTS (SELECT 1 FROM crm_import_accounts k
                                                              WHERE k.lname = lower(s.account_name)))
                    ORDER BY lower(a.name), a.id
                    ON CONFLICT DO NOTHING""")

    def _write(self, to_create: int) -> None:
        """Accounts, updates and inserts for the staged rows without issues (caller's transaction)."""
        out, job = self.outcome, self.job_id
        if not self._pipelining:  # pipelined batches come with account ids (_resolve_accounts)
            self._accounts()
        accounts = "crm_import_accounts"
        with connection.cursor() as cursor:
            texts = CONTACT_TEXTS
            if self.options.on_match == "update":
                sets = ", ".join(f"{c} = coalesce(s.{c}, c.{c})" for c in texts)
                cursor.execute(f"""
                    UPDATE crm_contact c SET {sets},
                        account_id = coalesce(s.account_id, a.id, c.account_id),
                        shared_in_directory = coalesce(s.shared_in_directory, c.shared_in_directory),
                        tags = CASE WHEN s.tags IS NULL THEN c.tags
                                    ELSE ARRAY(SELECT DISTINCT t FROM unnest(c.tags || s.tags) t) END,
                        custom = c.custom || coalesce(s.custom, '{{}}'::jsonb),
                        updated_at = now()
                    FROM {STAGE} s LEFT JOIN {accounts} a ON a.lname = lower(s.account_name)
                    WHERE s.match_id = c.id AND s.level IS NULL""")
                out.updated += cursor.rowcount
            values = ", ".join(f"coalesce(s.{c}, '')" for c in texts)
            cursor.execute(f"""
                INSERT INTO crm_contact ({', '.join(texts)}, account_id, shared_in_directory, tags, custom,
                                         created_at, updated_at, created_by_import_id)
                SELECT {values}, coalesce(s.account_id, a.id), coalesce(s.shared_in_directory, false), coalesce(s.tags, '{{}}'),
                       coalesce(s.custom, '{{}}'::jsonb), now(), now(), %s
                FROM {STAGE} s LEFT JOIN {accounts} a ON a.lname = lower(s.account_name)
                WHERE s.level IS NULL AND s.match_id IS NULL
                ON CONFLICT DO NOTHING""", [job])  # the stage is in file order: no ORDER BY (a sort)
            out.created += cursor.rowcount
            # Rows another writer beat us to between the analysis and the insert.
            out.skipped += max(0, to_create - cursor.rowcount)

    def drop_stage(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cursor.execute("DROP TABLE IF EXISTS crm_import_accounts")
            cursor.execute("RESET work_mem")



def _unique_custom(custom_defs) -> list[str]:
    return [d.name for d in custom_defs if d.unique]
