SELECT
  `t6`.`period_start`,
  COUNT(*) AS `value`
FROM (
  SELECT
    `t5`.`lead_id`,
    `t5`.`account_id`,
    `t5`.`email`,
    `t5`.`channel`,
    `t5`.`campaign`,
    `t5`.`created_at`,
    `t5`.`qualified_at`,
    `t5`.`opportunity_id`,
    `t5`.`converted_at`,
    `t5`.`owner_id`,
    `t5`.`status`,
    `t5`.`source`,
    `t5`.`segment`,
    `t5`.`region`,
    `t5`.`converted`,
    CAST(TIMESTAMP_TRUNC(`t5`.`qualified_at`, MONTH) AS DATE) AS `period_start`
  FROM (
    SELECT
      `t2`.`lead_id`,
      `t2`.`account_id`,
      `t2`.`email`,
      `t2`.`channel`,
      `t2`.`campaign`,
      `t2`.`created_at`,
      `t2`.`qualified_at`,
      `t2`.`opportunity_id`,
      `t2`.`converted_at`,
      `t2`.`owner_id`,
      `t2`.`status`,
      `t2`.`source`,
      `t4`.`segment`,
      `t4`.`region`,
      (
        `t2`.`opportunity_id` IS NOT NULL
      )
      OR (
        `t2`.`converted_at` IS NOT NULL
      )
      OR (
        COALESCE(LOWER(TRIM(`t2`.`status`, ' \t\n\r\v\f')), '') = 'converted'
      ) AS `converted`
    FROM `leads` AS `t2`
    LEFT OUTER JOIN (
      SELECT
        `t1`.`account_id` AS `account_key`,
        `t1`.`segment`,
        `t1`.`region`
      FROM `accounts` AS `t1`
    ) AS `t4`
      ON `t2`.`account_id` = `t4`.`account_key`
  ) AS `t5`
  WHERE
    `t5`.`qualified_at` IS NOT NULL
) AS `t6`
GROUP BY
  1;
