//! `xentral:hubspot/db`: the tenant database, already restricted by the grant and the
//! statement limits before it reaches here.

use xentral_erp::Database;

use super::xentral::hubspot::db;

/// What the db interface of one job holds.
pub struct DbCtx {
    pub(crate) db: Box<dyn Database>,
}

fn to_erp(v: db::Value) -> xentral_erp::Value {
    match v {
        db::Value::Null => xentral_erp::Value::Null,
        db::Value::Integer(i) => xentral_erp::Value::Integer(i),
        db::Value::Real(r) => xentral_erp::Value::Real(r),
        db::Value::Text(t) => xentral_erp::Value::Text(t),
        db::Value::Blob(b) => xentral_erp::Value::Blob(b),
    }
}

fn from_erp(v: xentral_erp::Value) -> db::Value {
    match v {
        xentral_erp::Value::Null => db::Value::Null,
        xentral_erp::Value::Integer(i) => db::Value::Integer(i),
        xentral_erp::Value::Real(r) => db::Value::Real(r),
        xentral_erp::Value::Text(t) => db::Value::Text(t),
        xentral_erp::Value::Blob(b) => db::Value::Blob(b),
    }
}

fn db_error(e: xentral_erp::DbError) -> db::DbError {
    match e {
        xentral_erp::DbError::Denied(t) => db::DbError::Denied(t),
        xentral_erp::DbError::Constraint(m) => db::DbError::Constraint(m),
        xentral_erp::DbError::Invalid(m) => db::DbError::Invalid(m),
        xentral_erp::DbError::Busy(m) => db::DbError::Busy(m),
        xentral_erp::DbError::Io(m) => db::DbError::Io(m),
        // 0.1.0 has no variant of its own for a host limit; its message says which.
        e @ xentral_erp::DbError::Limit(_) => db::DbError::Io(e.to_string()),
    }
}

impl db::Host for DbCtx {
    fn query(&mut self, sql: String, params: Vec<db::Value>) -> Result<db::Rows, db::DbError> {
        let params: Vec<_> = params.into_iter().map(to_erp).collect();
        let rows = self.db.query(&sql, &params).map_err(db_error)?;
        Ok(db::Rows {
            columns: rows.columns,
            rows: rows
                .rows
                .into_iter()
                .map(|r| r.into_iter().map(from_erp).collect())
                .collect(),
        })
    }

    fn execute(
        &mut self,
        sql: String,
        params: Vec<db::Value>,
    ) -> Result<db::ExecResult, db::DbError> {
        let params: Vec<_> = params.into_iter().map(to_erp).collect();
        let r = self.db.execute(&sql, &params).map_err(db_error)?;
        Ok(db::ExecResult {
            rows_affected: r.rows_affected,
            last_insert_id: r.last_insert_id,
        })
    }

    fn begin(&mut self) -> Result<(), db::DbError> {
        self.db.begin().map_err(db_error)
    }

    fn commit(&mut self) -> Result<(), db::DbError> {
        self.db.commit().map_err(db_error)
    }

    fn rollback(&mut self) -> Result<(), db::DbError> {
        self.db.rollback().map_err(db_error)
    }

    fn dialect(&mut self) -> db::SqlDialect {
        match self.db.dialect() {
            xentral_erp::Dialect::Sqlite => db::SqlDialect::Sqlite,
            xentral_erp::Dialect::Mysql => db::SqlDialect::Mysql,
        }
    }
}
