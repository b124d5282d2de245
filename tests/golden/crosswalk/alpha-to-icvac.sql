-- icvac crosswalk alpha to xw (to-icvac); taxonomy xw, 10 rows. Drop the table to load a new version.
CREATE TABLE icvac_crosswalk (
  subject_system VARCHAR(64),
  subject_code VARCHAR(64),
  subject_label VARCHAR(64),
  relation VARCHAR(64),
  object_system VARCHAR(64),
  object_code VARCHAR(64),
  object_label VARCHAR(64),
  via VARCHAR(64),
  condition VARCHAR(64),
  justification VARCHAR(128),
  author VARCHAR(64)
);
INSERT INTO icvac_crosswalk (subject_system, subject_code, subject_label, relation, object_system, object_code, object_label, via, condition, justification, author) VALUES
  ('alpha', 'A1', 'Homicide', 'exact', 'xw', '0101', 'Intentional killing', NULL, NULL, 'Same act.', 'Reviewer One'),
  ('alpha', 'A2', 'Slapping', 'broad', 'xw', '02012', 'Minor hitting', NULL, NULL, 'Minor hitting includes slapping and more.', 'Reviewer One'),
  ('alpha', 'A3', 'Serious assault', 'exact', 'xw', '02011', 'Serious hitting', NULL, NULL, 'Same act.', 'Reviewer Two'),
  ('alpha', 'A4', 'Rape or sexual assault | any', 'close', 'xw', '0301', 'Rape', NULL, NULL, 'Two acts in one national code; the national code also counts attempts.', 'Reviewer Two'),
  ('alpha', 'A4', 'Rape or sexual assault | any', 'close', 'xw', '0302', 'Sexual assault', NULL, NULL, 'Two acts in one national code; the national code also counts attempts.', 'Reviewer Two'),
  ('alpha', NULL, 'Child''s sexual abuse', 'related', 'xw', '03', 'Sexual violence', NULL, NULL, 'Covers abuse that is not always sexual violence.', 'Reviewer One'),
  ('alpha', NULL, 'Child''s sexual abuse', 'related', 'xw', '0301', 'Rape', NULL, 'victim_age < 13', 'Below the age of consent, recorded abuse is treated as rape.', 'Reviewer One'),
  ('alpha', 'A6', 'Burns\scalds', 'exact', 'xw', '0202', 'Burning', NULL, NULL, 'Same act.', 'Reviewer One'),
  ('alpha', 'A7', 'Hurting', 'exact', 'xw', '02', 'Hurting', NULL, NULL, 'Any physical harm.', 'Reviewer One'),
  ('alpha', 'A9', '=Other offence', 'no-match', 'xw', NULL, NULL, NULL, NULL, 'Not violence against a child.', 'Reviewer One');
