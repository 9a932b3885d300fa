/** Deterministic 1920s nicknames, picked from an id's first two bytes. */
const NAMES = [
  'Ada', 'Agnes', 'Alma', 'Alice', 'Annie', 'Bea', 'Bessie', 'Betty', 'Blanche', 'Clara',
  'Cora', 'Daisy', 'Dolores', 'Dora', 'Dot', 'Edith', 'Edna', 'Effie', 'Elsie', 'Emma',
  'Esther', 'Ethel', 'Eva', 'Faye', 'Flora', 'Frances', 'Georgia', 'Gertie', 'Grace', 'Hattie',
  'Hazel', 'Helen', 'Ida', 'Irene', 'Iris', 'Ivy', 'Josie', 'June', 'Lena', 'Lillian',
  'Lois', 'Lottie', 'Louise', 'Lucille', 'Mabel', 'Mae', 'Mamie', 'Marion', 'Maude', 'Minnie',
  'Myrtle', 'Nell', 'Opal', 'Pearl', 'Ruby', 'Ruth', 'Sadie', 'Stella', 'Thelma', 'Vera',
  'Viola', 'Violet', 'Wilma', 'Zelda', 'Abe', 'Alfie', 'Archie', 'Arthur', 'Bert', 'Buster',
  'Carl', 'Chester', 'Clarence', 'Cliff', 'Clyde', 'Dewey', 'Earl', 'Eddie', 'Elmer', 'Ernest',
  'Floyd', 'Frank', 'Fred', 'Gus', 'Harold', 'Harvey', 'Herbert', 'Homer', 'Hugo', 'Jack',
  'Jasper', 'Leo', 'Leon', 'Lester', 'Lloyd', 'Louis', 'Mack', 'Milton', 'Morris', 'Ned',
  'Oscar', 'Otis', 'Percy', 'Ralph', 'Ray', 'Roscoe', 'Rudy', 'Sam', 'Sid', 'Stanley',
  'Ted', 'Theo', 'Virgil', 'Wally', 'Walter', 'Wilbur', 'Willis', 'Woody', 'Cy', 'Bob',
] as const;

export const nicknameFor = (id: string): string => {
  const hex = id.replace(/-/g, '');
  const n = (parseInt(hex.slice(0, 2), 16) || 0) * 256 + (parseInt(hex.slice(2, 4), 16) || 0);
  return NAMES[n % NAMES.length]!;
};
