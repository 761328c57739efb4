import psycopg


def test_smoke(owner_dsn, app_dsn, migrated_db):
    with psycopg.connect(owner_dsn) as c:
        print(c.execute("select current_user, count(*) from tenants").fetchone())
