-- icvac crosswalk alpha to beta (compose); taxonomy xw, 15 rows. Drop the table to load a new version.
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
  ('alpha', 'A1', 'Homicide', 'exact', 'beta', 'B1', 'Killing of a child', '0101', NULL, 'Same act. | Same act.', 'Reviewer One|Reviewer Three'),
  ('alpha', 'A1', 'Homicide', 'close', 'beta', 'B6', 'Murder', '0101', NULL, 'Same act. | Murder is nearly intentional killing.', 'Reviewer One|Reviewer Three'),
  ('alpha', 'A2', 'Slapping', 'broad', 'beta', 'B2', 'Physical violence', '02012 > 02', NULL, 'Minor hitting includes slapping and more. | Same scope.', 'Reviewer One|Reviewer Three'),
  ('alpha', 'A2', 'Slapping', 'broad', 'beta', 'B3', 'Hitting', '02012', NULL, 'Minor hitting includes slapping and more. | Minor hitting is part of hitting.', 'Reviewer One|Reviewer Three'),
  ('alpha', 'A3', 'Serious assault', 'broad', 'beta', 'B2', 'Physical violence', '02011 > 02', NULL, 'Same act. | Same scope.', 'Reviewer Two|Reviewer Three'),
  ('alpha', 'A3', 'Serious assault', 'exact', 'beta', 'B8', 'Serious assault', '02011', NULL, 'Same act. | Same act.', 'Reviewer Two|Reviewer One'),
  ('alpha', 'A4', 'Rape or sexual assault | any', 'related', 'beta', 'B4', 'Sexual offences', '0301 > 03', NULL, 'Two acts in one national code; the national code also counts attempts. | Nearly all sexual violence.', 'Reviewer Two|Reviewer Three'),
  ('alpha', 'A4', 'Rape or sexual assault | any', 'related', 'beta', 'B4', 'Sexual offences', '0302 > 03', NULL, 'Two acts in one national code; the national code also counts attempts. | Nearly all sexual violence.', 'Reviewer Two|Reviewer Three'),
  ('alpha', NULL, 'Child''s sexual abuse', 'related', 'beta', 'B4', 'Sexual offences', '03', NULL, 'Covers abuse that is not always sexual violence. | Nearly all sexual violence.', 'Reviewer One|Reviewer Three'),
  ('alpha', NULL, 'Child''s sexual abuse', 'related', 'beta', 'B4', 'Sexual offences', '0301 > 03', 'victim_age < 13', 'Below the age of consent, recorded abuse is treated as rape. | Nearly all sexual violence.', 'Reviewer One|Reviewer Three'),
  ('alpha', 'A6', 'Burns\scalds', 'broad', 'beta', 'B2', 'Physical violence', '0202 > 02', NULL, 'Same act. | Same scope.', 'Reviewer One|Reviewer Three'),
  ('alpha', 'A7', 'Hurting', 'exact', 'beta', 'B2', 'Physical violence', '02', NULL, 'Any physical harm. | Same scope.', 'Reviewer One|Reviewer Three'),
  ('alpha', 'A7', 'Hurting', 'related', 'beta', 'B3', 'Hitting', '02 > 02012', NULL, 'Any physical harm. | Minor hitting is part of hitting.', 'Reviewer One|Reviewer Three'),
  ('alpha', 'A7', 'Hurting', 'narrow', 'beta', 'B8', 'Serious assault', '02 > 02011', NULL, 'Any physical harm. | Same act.', 'Reviewer One'),
  ('alpha', 'A9', '=Other offence', 'no-match', 'beta', NULL, NULL, NULL, NULL, 'Not violence against a child.', 'Reviewer One');
