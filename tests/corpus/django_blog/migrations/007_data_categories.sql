--
-- Raw Python operation (RunPython: forwards), written out as SQL for review
--
INSERT INTO "blog_category" ("name", "slug") VALUES ('Générale', 'generale'), ('Tech; & tools', 'tech-tools'), ('Ünïcode', 'unicode');
UPDATE "blog_post" SET "category_id" = (SELECT "id" FROM "blog_category" WHERE "slug" = 'generale') WHERE "category_id" IS NULL;
SET CONSTRAINTS "blog_post_category_id_c326dbf8_fk_blog_category_id" IMMEDIATE; SET CONSTRAINTS "blog_post_category_id_c326dbf8_fk_blog_category_id" DEFERRED;
