//! A PostgreSQL site as tables of rows, for `newsdesk store copy` ([`newsdesk_store::copy`]).
//! Values are converted by the target column's type (a SQLite 0/1 becomes a BOOLEAN), and after
//! the copy each identity column's sequence moves past the copied ids.

use super::{begin, commit, get, pg_err, query, query_one, PgStore};
use async_trait::async_trait;
use newsdesk_store::copy::{Cell, TableCopy};
use newsdesk_store::{StoreError, StoreResult};
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{GenericClient, Row};

/// A table or column name from the schema, quoted.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

type Boxed = Box<dyn ToSql + Sync + Send>;

/// A value for a column of PostgreSQL type `ty` (`information_schema`'s `data_type`).
fn param(ty: &str, c: &Cell, col: &str) -> StoreResult<Boxed> {
    let bad = || StoreError::msg(format!("column {col} ({ty}) cannot hold {c:?}"));
    let b: Boxed = match (ty, c) {
        ("boolean", Cell::Null) => Box::new(None::<bool>),
        ("boolean", Cell::Int(i)) => Box::new(*i != 0),
        ("bigint", Cell::Null) => Box::new(None::<i64>),
        ("bigint", Cell::Int(i)) => Box::new(*i),
        ("integer", Cell::Null) => Box::new(None::<i32>),
        ("integer", Cell::Int(i)) => Box::new(i32::try_from(*i).map_err(|_| bad())?),
        ("smallint", Cell::Null) => Box::new(None::<i16>),
        ("smallint", Cell::Int(i)) => Box::new(i16::try_from(*i).map_err(|_| bad())?),
        ("double precision", Cell::Null) => Box::new(None::<f64>),
        ("double precision", Cell::Real(f)) => Box::new(*f),
        ("double precision", Cell::Int(i)) => Box::new(*i as f64),
        ("text" | "character varying", Cell::Null) => Box::new(None::<String>),
        ("text" | "character varying", Cell::Text(t)) => Box::new(t.clone()),
        ("text" | "character varying", Cell::Int(i)) => Box::new(i.to_string()),
        ("bytea", Cell::Null) => Box::new(None::<Vec<u8>>),
        ("bytea", Cell::Blob(b)) => Box::new(b.clone()),
        _ => return Err(bad()),
    };
    Ok(b)
}

fn cell(r: &Row, i: usize) -> StoreResult<Cell> {
    let Some(ty) = r.columns().get(i).map(|c| c.type_().clone()) else {
        return Err(StoreError::msg(format!("no column {i}")));
    };
    let some = |v: Option<Cell>| v.unwrap_or(Cell::Null);
    Ok(if ty == Type::INT8 {
        some(get::<Option<i64>>(r, i)?.map(Cell::Int))
    } else if ty == Type::INT4 {
        some(get::<Option<i32>>(r, i)?.map(|v| Cell::Int(v.into())))
    } else if ty == Type::INT2 {
        some(get::<Option<i16>>(r, i)?.map(|v| Cell::Int(v.into())))
    } else if ty == Type::BOOL {
        some(get::<Option<bool>>(r, i)?.map(|v| Cell::Int(v.into())))
    } else if ty == Type::FLOAT8 {
        some(get::<Option<f64>>(r, i)?.map(Cell::Real))
    } else if ty == Type::BYTEA {
        some(get::<Option<Vec<u8>>>(r, i)?.map(Cell::Blob))
    } else if ty == Type::TEXT || ty == Type::VARCHAR || ty == Type::NAME {
        some(get::<Option<String>>(r, i)?.map(Cell::Text))
    } else {
        return Err(StoreError::msg(format!(
            "cannot copy a column of type {ty}"
        )));
    })
}

async fn table_names<C: GenericClient>(c: &C) -> StoreResult<Vec<String>> {
    query(
        c,
        "SELECT table_name::TEXT FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        &[],
    )
    .await?
    .iter()
    .map(|r| get(r, 0))
    .collect()
}

/// (name, type) of a table's columns, in order; an unknown table is an error.
async fn column_types<C: GenericClient>(c: &C, table: &str) -> StoreResult<Vec<(String, String)>> {
    let cols: Vec<(String, String)> = query(
        c,
        "SELECT column_name::TEXT, data_type::TEXT FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        &[&table],
    )
    .await?
    .iter()
    .map(|r| Ok((get(r, 0)?, get(r, 1)?)))
    .collect::<StoreResult<_>>()?;
    if cols.is_empty() {
        return Err(StoreError::msg(format!("no table {table}")));
    }
    Ok(cols)
}

/// The values of `row` as parameters for `cols` of `table`.
fn params_for(
    types: &[(String, String)],
    cols: &[String],
    row: &[Cell],
) -> StoreResult<Vec<Boxed>> {
    cols.iter()
        .zip(row)
        .map(|(col, v)| {
            let ty = types
                .iter()
                .find(|(n, _)| n == col)
                .map(|(_, t)| t.as_str())
                .ok_or_else(|| StoreError::msg(format!("no column {col}")))?;
            param(ty, v, col)
        })
        .collect()
}

fn refs(p: &[Boxed]) -> Vec<&(dyn ToSql + Sync)> {
    p.iter().map(|b| &**b as &(dyn ToSql + Sync)).collect()
}

#[async_trait]
impl TableCopy for PgStore {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    async fn table_names(&self) -> StoreResult<Vec<String>> {
        let c = self.conn().await?;
        table_names(&**c).await
    }

    async fn columns(&self, table: &str) -> StoreResult<Vec<String>> {
        let c = self.conn().await?;
        Ok(column_types(&**c, table)
            .await?
            .into_iter()
            .map(|(n, _)| n)
            .collect())
    }

    async fn count_rows(&self, table: &str) -> StoreResult<u64> {
        let c = self.conn().await?;
        column_types(&**c, table).await?;
        let r = query_one(&**c, &format!("SELECT count(*) FROM {}", ident(table)), &[]).await?;
        Ok(get::<i64>(&r, 0)?.max(0) as u64)
    }

    async fn key_columns(&self, table: &str) -> StoreResult<Vec<String>> {
        let c = self.conn().await?;
        column_types(&**c, table).await?;
        query(
            &**c,
            "SELECT k.column_name::TEXT FROM information_schema.table_constraints t \
             JOIN information_schema.key_column_usage k \
               ON k.constraint_name = t.constraint_name AND k.table_schema = t.table_schema \
              AND k.table_name = t.table_name \
             WHERE t.table_schema = current_schema() AND t.table_name = $1 \
               AND t.constraint_type = 'PRIMARY KEY' \
             ORDER BY k.ordinal_position",
            &[&table],
        )
        .await?
        .iter()
        .map(|r| get(r, 0))
        .collect()
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
        let c = self.conn().await?;
        let types = column_types(&**c, table).await?;
        let list = cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let rows = if key.is_empty() {
            query(
                &**c,
                &format!(
                    "SELECT {list} FROM {} ORDER BY {list} LIMIT $1 OFFSET $2",
                    ident(table)
                ),
                &[&limit, &offset],
            )
            .await?
        } else {
            let keys = key.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
            match after {
                None => {
                    query(
                        &**c,
                        &format!(
                            "SELECT {list} FROM {} ORDER BY {keys} LIMIT $1 OFFSET $2",
                            ident(table)
                        ),
                        &[&limit, &offset],
                    )
                    .await?
                }
                Some(vals) => {
                    let mut params = params_for(&types, key, vals)?;
                    let marks = (1..=params.len())
                        .map(|i| format!("${i}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let sql = format!(
                        "SELECT {list} FROM {} WHERE ({keys}) > ({marks}) ORDER BY {keys} \
                         LIMIT ${}",
                        ident(table),
                        params.len() + 1
                    );
                    params.push(Box::new(limit));
                    query(&**c, &sql, &refs(&params)).await?
                }
            }
        };
        rows.iter()
            .map(|r| (0..cols.len()).map(|i| cell(r, i)).collect())
            .collect()
    }

    async fn write_rows(
        &self,
        table: &str,
        cols: &[String],
        rows: &[Vec<Cell>],
    ) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let types = column_types(&**c, table).await?;
        let list = cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
        let marks = (1..=cols.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        // OVERRIDING SYSTEM VALUE: ids are kept as they were (identity columns included).
        let sql = format!(
            "INSERT INTO {} ({list}) OVERRIDING SYSTEM VALUE VALUES ({marks})",
            ident(table)
        );
        let tx = begin(&mut c).await?;
        let st = tx.prepare(&sql).await.map_err(pg_err)?;
        for row in rows {
            let p = params_for(&types, cols, row)?;
            tx.execute(&st, &refs(&p)).await.map_err(pg_err)?;
        }
        commit(tx).await
    }

    async fn has_row(&self, table: &str, cols: &[String], row: &[Cell]) -> StoreResult<bool> {
        let c = self.conn().await?;
        let types = column_types(&**c, table).await?;
        let mut conds = Vec::new();
        let mut pcols = Vec::new();
        let mut pvals = Vec::new();
        for (col, v) in cols.iter().zip(row) {
            if *v == Cell::Null {
                conds.push(format!("{} IS NULL", ident(col)));
            } else {
                pcols.push(col.clone());
                pvals.push(v.clone());
                conds.push(format!("{} = ${}", ident(col), pvals.len()));
            }
        }
        let p = params_for(&types, &pcols, &pvals)?;
        let sql = format!(
            "SELECT count(*) FROM {} WHERE {}",
            ident(table),
            if conds.is_empty() {
                "TRUE".to_owned()
            } else {
                conds.join(" AND ")
            }
        );
        let r = query_one(&**c, &sql, &refs(&p)).await?;
        Ok(get::<i64>(&r, 0)? > 0)
    }

    async fn clear_tables(&self, tables: &[String]) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        for t in tables {
            column_types(&tx, t).await?;
            tx.execute(&format!("DELETE FROM {}", ident(t)), &[])
                .await
                .map_err(pg_err)?;
        }
        commit(tx).await
    }

    async fn finish_copy(&self, tables: &[String]) -> StoreResult<()> {
        let c = self.conn().await?;
        for t in tables {
            let types = column_types(&**c, t).await?;
            if !types.iter().any(|(n, _)| n == "id") {
                continue;
            }
            // A table without a sequence gives NULL, and setval of NULL does nothing.
            query(
                &**c,
                &format!(
                    "SELECT setval(pg_get_serial_sequence($1::TEXT, 'id'), max(id)) FROM {} \
                     HAVING max(id) IS NOT NULL",
                    ident(t)
                ),
                &[t],
            )
            .await?;
        }
        Ok(())
    }
}
