"""Request and response bodies of training (TRN-1, TRN-2): courses and attendance records."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from appraisal.schemas.common import Id, ShortText, Strict


class CourseCreate(Strict):
    kind: Literal["pre_service", "in_service"] = Field(
        description="pre_service (岗前培训, before first practice: TRN-1) or in_service (岗位培训, every year: TRN-2)"
    )
    title: ShortText
    organiser: ShortText = Field(description="the bureau, the association (协会) or whoever it delegated")
    starts_on: date
    ends_on: date
    hours: int = Field(ge=1, le=2000, description="class hours (学时) it gives")

    @model_validator(mode="after")
    def ends_after_it_starts(self) -> "CourseCreate":
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self


class AttendanceIn(Strict):
    appraiser_id: Id
    hours: int | None = Field(default=None, ge=0, le=2000, description="default: the course's hours")
    completed: bool = True


class AttendanceCreate(Strict):
    """Attendance entered by the organiser, or imported from its list: a repeat of an appraiser
    replaces their earlier record of the course."""

    records: list[AttendanceIn] = Field(min_length=1, max_length=2000)


class CoursePublic(BaseModel):
    id: str
    bureau_id: str
    kind: str
    title: str
    organiser: str
    starts_on: date
    ends_on: date
    hours: int
    created_by: str
    created_at: datetime
    attendees: int = 0


class AttendancePublic(BaseModel):
    course_id: str
    title: str
    kind: str
    ends_on: date
    appraiser_id: str
    hours: int
    completed: bool
    recorded_at: datetime


class AttendanceResult(BaseModel):
    course_id: str
    recorded: int
    pre_service_completed: list[str] = Field(
        description="appraisers this course brought through pre-service training: now assignable (TRN-1)"
    )


class AppraiserTraining(BaseModel):
    appraiser_id: str
    name: str
    institution_id: str
    year: int
    required_hours: int
    in_service_hours: int
    short_by: int
    needs_pre_service_training: bool
    records: list[AttendancePublic]
