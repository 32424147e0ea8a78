#include "connection.hpp"

#include <string>

namespace palyra::journal::sqlite {

Error error(sqlite3* db, std::string_view what) {
  const char* file = db ? sqlite3_db_filename(db, "main") : nullptr;
  std::string message(what);
  if (file && *file) message += " (" + std::string(file) + ")";
  if (db) {
    message += ": " + std::string(sqlite3_errmsg(db)) + " (code " +
               std::to_string(sqlite3_extended_errcode(db)) + ")";
  }
  return Error(Errc::StorageFailed, std::move(message));
}

Result<sqlite3*> open(const std::filesystem::path& path, int flags) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = "cannot open the journal " + path.string() + ": " +
                          (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return Error(Errc::StorageFailed, std::move(message));
  }
  sqlite3_extended_result_codes(db, 1);
  return db;
}

Status exec(sqlite3* db, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return error(db, std::string("executing \"") + sql + "\"");
  }
  return {};
}

Result<Statement> Statement::prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    return error(db, "preparing \"" + std::string(sql) + "\"");
  }
  return Statement(db, stmt);
}

Result<bool> Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return error(db_, std::string("running \"") + sqlite3_sql(stmt_) + "\"");
}

Result<std::int64_t> query_int(sqlite3* db, std::string_view sql, std::int64_t if_null) {
  auto statement = Statement::prepare(db, sql);
  if (!statement) return std::move(statement).error();
  auto row = statement->step();
  if (!row) return std::move(row).error();
  if (!*row || statement->column_is_null(0)) return if_null;
  return statement->column_int(0);
}

}  // namespace palyra::journal::sqlite
