import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExtraModels,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { ApiProblems, ApiSession } from '../common/openapi/problem-responses.js';
import { AppException } from '../common/problem/app-exception.js';
import type { SessionPrincipal } from '../access/authenticated-request.js';
import { CurrentPrincipal, RequireRoles } from '../access/auth.decorators.js';
import { CSRF_HEADER } from '../access/csrf.js';
import { CreateRmiItemDto, ImportRmiItemsDto } from './dto/create-rmi-item.dto.js';
import { RmiItemDto, RmiItemImportResultDto, RmiItemPageDto } from './dto/rmi-item.dto.js';
import { RmiItemListQueryDto } from './dto/rmi-item-list-query.dto.js';
import { UpdateRmiItemDto } from './dto/update-rmi-item.dto.js';
import { rmiItemCodeParam } from './rmi-item-fields.js';
import { assertImportValid, readCsvImport, readJsonImport } from './rmi-item-import.js';
import { CSV_MEDIA_TYPE } from './rmi-item-import.middleware.js';
import { toRmiItemDto } from './rmi-item.mapper.js';
import { RmiItemsService } from './rmi-items.service.js';
import { RequestId } from '../common/request-context/request-context.js';

const CSRF = { name: CSRF_HEADER, required: true, description: 'csrfToken from GET /api/me' };

@ApiTags('admin')
@ApiSession(403)
@RequireRoles('admin')
@Controller('api/admin/rmi-items')
export class AdminRmiItemsController {
  constructor(private readonly items: RmiItemsService) {}

  @Get()
  @ApiOperation({ summary: 'RMI items in code order, filtered by classification, category or text' })
  @ApiOkResponse({ type: RmiItemPageDto })
  @ApiSession(400, 403)
  async list(@Query() query: RmiItemListQueryDto): Promise<RmiItemPageDto> {
    const page = await this.items.list(query);
    return { items: page.items.map(toRmiItemDto), nextCursor: page.nextCursor };
  }

  @Get(':code')
  @ApiOperation({ summary: 'One RMI item (the code is matched case-insensitively)' })
  @ApiOkResponse({ type: RmiItemDto })
  @ApiSession(400, 403, 404)
  async get(@Param('code', rmiItemCodeParam) code: string): Promise<RmiItemDto> {
    const item = await this.items.findByCode(code);
    if (!item) throw new AppException('rmi_item_not_found', `No RMI item with code ${code}`);
    return toRmiItemDto(item);
  }

  @Post()
  @ApiOperation({ summary: 'Create an RMI item (audited)' })
  @ApiHeader(CSRF)
  @ApiCreatedResponse({ type: RmiItemDto })
  @ApiSession(400, 403, 409)
  async create(
    @CurrentPrincipal() principal: SessionPrincipal,
    @RequestId() requestId: string | null,
    @Body() body: CreateRmiItemDto,
  ): Promise<RmiItemDto> {
    return toRmiItemDto(await this.items.create(body, principal.accountId, requestId));
  }

  @Patch(':code')
  @ApiOperation({ summary: 'Change title, classification, category or notes (audited when something changes)' })
  @ApiHeader(CSRF)
  @ApiOkResponse({ type: RmiItemDto })
  @ApiSession(400, 403, 404)
  async update(
    @CurrentPrincipal() principal: SessionPrincipal,
    @RequestId() requestId: string | null,
    @Param('code', rmiItemCodeParam) code: string,
    @Body() body: UpdateRmiItemDto,
  ): Promise<RmiItemDto> {
    return toRmiItemDto(await this.items.update(code, body, principal.accountId, requestId));
  }

  @Post('import')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Create or update many RMI items at once, all or nothing (up to 10,000 items, 5 MB)',
    description:
      'JSON `{"items": [...]}` or CSV (UTF-8, RFC 4180) with the header `code,title,securityRelated[,category][,notes]`; ' +
      'CSV booleans may be true/false, yes/no or 1/0, an empty category or notes cell clears it. An optional field ' +
      'left out (JSON key or CSV column) keeps the stored value. Every row is checked first: any invalid row ' +
      'answers 400 `import_invalid` with `errors[].row` (1-based data row; 0 for the document or CSV header) and ' +
      'nothing is written. Created and updated items are audited one by one, plus one summary event.',
    requestBody: {
      required: true,
      content: {
        'application/json': { schema: { $ref: getSchemaPath(ImportRmiItemsDto) } },
        [CSV_MEDIA_TYPE]: {
          schema: { type: 'string' },
          example:
            'code,title,securityRelated,category,notes\r\nIMMO.KEY,"Key programming, new key",yes,Immobiliser,\r\n',
        },
      },
    },
  })
  @ApiHeader(CSRF)
  @ApiExtraModels(ImportRmiItemsDto)
  @ApiOkResponse({ type: RmiItemImportResultDto })
  @ApiSession(400, 403)
  @ApiProblems(413, 415)
  async import(
    @CurrentPrincipal() principal: SessionPrincipal,
    @RequestId() requestId: string | null,
    @Body() body: unknown,
  ): Promise<RmiItemImportResultDto> {
    const csv = Buffer.isBuffer(body);
    const rows = assertImportValid(csv ? readCsvImport(body) : readJsonImport(body));
    return this.items.import(rows, principal.accountId, requestId, csv ? 'csv' : 'json');
  }
}
