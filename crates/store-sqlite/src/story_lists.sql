-- A story's placements, authors and tags in its own row, in the format of
-- newsdesk_store::lists (`edition rank,…|author,…|tag,…`), so an article page reads one row.
-- Every save writes it with the list tables; this fills it for the stories saved before.
ALTER TABLE stories ADD COLUMN lists TEXT;
UPDATE stories SET lists =
  ifnull((SELECT group_concat(x.edition_id || ' ' || ifnull(x.rank, ''), ',' ORDER BY x.position)
          FROM story_editions x WHERE x.story_id = stories.id), '')
  || '|' ||
  ifnull((SELECT group_concat(x.author_id, ',' ORDER BY x.position)
          FROM story_authors x WHERE x.story_id = stories.id), '')
  || '|' ||
  ifnull((SELECT group_concat(x.tag_id, ',' ORDER BY x.position)
          FROM story_tags x WHERE x.story_id = stories.id), '');
