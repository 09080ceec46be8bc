import { ApiProperty } from './api-docs.js';
import { IsEmail, IsString, Length, Matches, MaxLength, MinLength } from 'class-validator';

/**
 * The internal HTTP API of users, which only the gateway calls: one definition of the bodies
 * and their rules, validated at the gateway (400 before any call) and again by users.
 */

/**
 * A plain address: no quoted local part, no spaces, quotes, commas, brackets or control
 * characters, which `IsEmail` allows but mail headers and the event schema do not.
 */
export const PLAIN_EMAIL = /^[^\s",;:<>()[\]\\\p{Cc}]+@[^\s",;:<>()[\]\\\p{Cc}@]+$/u;
const PLAIN_EMAIL_MESSAGE =
  'email must be a plain address like ada@example.com (no quoted part, spaces, commas or control characters)';

/** A name: at least one visible character, no control characters or line breaks. */
export const DISPLAY_NAME =
  /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*[^\s\p{Cc}\p{Cf}\p{Zl}\p{Zp}][^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$/u;

/** Minimum password length enforced at registration. */
export const MIN_PASSWORD_LENGTH = 8;

/** `POST /users` on the gateway, `POST /internal/register` on users. */
export class RegisterAccountDto {
  @ApiProperty({ example: 'ada@example.com' })
  @IsEmail({}, { message: 'email must be an email address' })
  @Matches(PLAIN_EMAIL, { message: PLAIN_EMAIL_MESSAGE })
  @MaxLength(254)
  email!: string;

  @ApiProperty({ example: 'Ada Lovelace' })
  @IsString()
  @Length(1, 200)
  @Matches(DISPLAY_NAME, {
    message: 'name must hold a visible character and no control characters or line breaks',
  })
  name!: string;

  @ApiProperty({ minLength: MIN_PASSWORD_LENGTH, example: 'correct horse battery' })
  @IsString()
  @MinLength(MIN_PASSWORD_LENGTH, {
    message: `password must be at least ${MIN_PASSWORD_LENGTH} characters`,
  })
  @MaxLength(256)
  password!: string;
}

/** `POST /auth/token` on the gateway, `POST /internal/authenticate` on users. */
export class AuthenticateDto {
  @ApiProperty({ example: 'ada@example.com' })
  @IsEmail({}, { message: 'email must be an email address' })
  @Matches(PLAIN_EMAIL, { message: PLAIN_EMAIL_MESSAGE })
  @MaxLength(254)
  email!: string;

  @ApiProperty({ example: 'correct horse battery' })
  @IsString()
  @Length(1, 256)
  password!: string;
}

/** users' answer to a registration. */
export interface AccountView {
  id: string;
  email: string;
  name: string;
}

/** users' answer to an authentication. */
export interface TokenResponse {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}
