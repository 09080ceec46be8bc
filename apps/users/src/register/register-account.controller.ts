import { InternalCallerGuard } from '@app/platform';
import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { type AccountView, RegisterAccountDto } from '@app/contracts';
import { RegisterAccountService } from './register-account.service.js';

/** Internal API called by the gateway only; passwords never go through the broker. */
@Controller('internal')
@UseGuards(InternalCallerGuard)
export class RegisterAccountController {
  constructor(private readonly service: RegisterAccountService) {}

  /** `POST /internal/register` -> 201 `{id, email, name}`, 409 when the email is taken. */
  @Post('register')
  @HttpCode(201)
  register(@Body() dto: RegisterAccountDto): Promise<AccountView> {
    return this.service.register(dto);
  }
}
