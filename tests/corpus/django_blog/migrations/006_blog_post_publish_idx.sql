--
-- Alter field status on post
--
-- (no effect on database)
--
-- Create index blog_post_publish_bb7600_idx on field(s) -publish of model post
--
CREATE INDEX "blog_post_publish_bb7600_idx" ON "blog_post" ("publish" DESC);
--
-- Add field tags to post (a RunSQL with a semicolon in its string)
--
ALTER TABLE "blog_post" ADD COLUMN "tags" varchar(50)[] DEFAULT '{}' NOT NULL;
ALTER TABLE "blog_post" ALTER COLUMN "tags" DROP DEFAULT;
