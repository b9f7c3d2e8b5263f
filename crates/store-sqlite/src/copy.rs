//! A SQLite site as tables of rows, for `newsdesk store copy` ([`newsdesk_store::copy`]).

use super::{sql_err, SqliteStore};
use async_trait::async_trait;
use newsdesk_store::copy::{Cell, TableCopy};
use newsdesk_store::{StoreError, StoreResult};
use rusqlite::types::{Value, ValueRef};

/// A table or column name from the schema, quoted (names come from the schema itself, never
/// from outside, but a quote keeps any name a name).
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn cell(v: ValueRef<'_>) -> Cell {
    match v {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(i) => Cell::Int(i),
        ValueRef::Real(f) => Cell::Real(f),
        ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
    }
}

fn value(c: &Cell) -> Value {
    match c {
        Cell::Null => Value::Null,
        Cell::Int(i) => Value::Integer(*i),
        Cell::Real(f) => Value::Real(*f),
        Cell::Text(t) => Value::Text(t.clone()),
        Cell::Blob(b) => Value::Blob(b.clone()),
    }
}

fn known(table: &str, tables: &[String]) -> StoreResult<()> {
    if tables.iter().any(|t| t == table) {
        Ok(())
    } else {
        Err(StoreError::msg(format!("no table {table}")))
    }
}

fn table_names(c: &rusqlite::Connection) -> StoreResult<Vec<String>> {
    let mut st = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .map_err(sql_err)?;
    let rows = st.query_map([], |r| r.get(0)).map_err(sql_err)?;
    rows.collect::<Result<_, _>>().map_err(sql_err)
}

#[async_trait]
impl TableCopy for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    async fn table_names(&self) -> StoreResult<Vec<String>> {
        self.read(table_names).await
    }

    async fn columns(&self, table: &str) -> StoreResult<Vec<String>> {
        let table = table.to_owned();
        self.read(move |c| {
            known(&table, &table_names(c)?)?;
            let mut st = c
                .prepare(&format!("PRAGMA table_info({})", ident(&table)))
                .map_err(sql_err)?;
            let rows = st.query_map([], |r| r.get(1)).map_err(sql_err)?;
            rows.collect::<Result<_, _>>().map_err(sql_err)
        })
        .await
    }

    async fn count_rows(&self, table: &str) -> StoreResult<u64> {
        let table = table.to_owned();
        self.read(move |c| {
            known(&table, &table_names(c)?)?;
            let n: i64 = c
                .query_row(
                    &format!("SELECT count(*) FROM {}", ident(&table)),
                    [],
                    |r| r.get(0),
                )
                .map_err(sql_err)?;
            Ok(n.max(0) as u64)
        })
        .await
    }

    async fn key_columns(&self, table: &str) -> StoreResult<Vec<String>> {
        let table = table.to_owned();
        self.read(move |c| {
            known(&table, &table_names(c)?)?;
            let mut st = c
                .prepare("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")
                .map_err(sql_err)?;
            let rows = st.query_map([&table], |r| r.get(0)).map_err(sql_err)?;
            rows.collect::<Result<_, _>>().map_err(sql_err)
        })
        .await
    }

    async fn read_rows(
        &self,
        table: &str,
        cols: &[String],
        key: &[String],
        after: Option<&[Cell]>,
        offset: u64,
        limit: usize,
    ) -> StoreResult<Vec<Vec<Cell>>> {
        let (table, cols, key) = (table.to_owned(), cols.to_vec(), key.to_vec());
        let after: Option<Vec<Value>> = after.map(|a| a.iter().map(value).collect());
        self.read(move |c| {
            known(&table, &table_names(c)?)?;
            let list = cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
            let limit = Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX));
            let (sql, args): (String, Vec<Value>) = if key.is_empty() {
                (
                    format!(
                        "SELECT {list} FROM {} ORDER BY {list} LIMIT ?1 OFFSET ?2",
                        ident(&table)
                    ),
                    vec![
                        limit,
                        Value::Integer(i64::try_from(offset).unwrap_or(i64::MAX)),
                    ],
                )
            } else {
                let keys = key.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
                match after {
                    None => (
                        format!(
                            "SELECT {list} FROM {} ORDER BY {keys} LIMIT ?1 OFFSET ?2",
                            ident(&table)
                        ),
                        vec![
                            limit,
                            Value::Integer(i64::try_from(offset).unwrap_or(i64::MAX)),
                        ],
                    ),
                    Some(mut vals) => {
                        let marks = (1..=vals.len())
                            .map(|i| format!("?{i}"))
                            .collect::<Vec<_>>()
                            .join(", ");
                        let sql = format!(
                            "SELECT {list} FROM {} WHERE ({keys}) > ({marks}) ORDER BY {keys} \
                             LIMIT ?{}",
                            ident(&table),
                            vals.len() + 1
                        );
                        vals.push(limit);
                        (sql, vals)
                    }
                }
            };
            let mut st = c.prepare(&sql).map_err(sql_err)?;
            let n = cols.len();
            let rows = st
                .query_map(rusqlite::params_from_iter(args), |r| {
                    (0..n).map(|i| r.get_ref(i).map(cell)).collect()
                })
                .map_err(sql_err)?;
            rows.collect::<Result<_, _>>().map_err(sql_err)
        })
        .await
    }

    async fn write_rows(
        &self,
        table: &str,
        cols: &[String],
        rows: &[Vec<Cell>],
    ) -> StoreResult<()> {
        let (table, cols, rows) = (table.to_owned(), cols.to_vec(), rows.to_vec());
        self.write(move |tx| {
            known(&table, &table_names(tx)?)?;
            let list = cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
            let marks = (1..=cols.len())
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut st = tx
                .prepare(&format!(
                    "INSERT INTO {} ({list}) VALUES ({marks})",
                    ident(&table)
                ))
                .map_err(sql_err)?;
            for row in &rows {
                st.execute(rusqlite::params_from_iter(row.iter().map(value)))
                    .map_err(sql_err)?;
            }
            Ok(())
        })
        .await
    }

    async fn has_row(&self, table: &str, cols: &[String], row: &[Cell]) -> StoreResult<bool> {
        let (table, cols, row) = (table.to_owned(), cols.to_vec(), row.to_vec());
        self.read(move |c| {
            known(&table, &table_names(c)?)?;
            let mut conds = Vec::new();
            let mut args = Vec::new();
            for (col, v) in cols.iter().zip(&row) {
                if *v == Cell::Null {
                    conds.push(format!("{} IS NULL", ident(col)));
                } else {
                    args.push(value(v));
                    conds.push(format!("{} = ?{}", ident(col), args.len()));
                }
            }
            let sql = format!(
                "SELECT count(*) FROM {} WHERE {}",
                ident(&table),
                if conds.is_empty() {
                    "1=1".to_owned()
                } else {
                    conds.join(" AND ")
                }
            );
            let n: i64 = c
                .query_row(&sql, rusqlite::params_from_iter(args), |r| r.get(0))
                .map_err(sql_err)?;
            Ok(n > 0)
        })
        .await
    }

    async fn clear_tables(&self, tables: &[String]) -> StoreResult<()> {
        let tables = tables.to_vec();
        self.write(move |tx| {
            let all = table_names(tx)?;
            for t in &tables {
                known(t, &all)?;
                tx.execute(&format!("DELETE FROM {}", ident(t)), [])
                    .map_err(sql_err)?;
            }
            Ok(())
        })
        .await
    }

    async fn finish_copy(&self, _tables: &[String]) -> StoreResult<()> {
        // INTEGER PRIMARY KEY continues from the largest id by itself.
        Ok(())
    }
}
